package requestflow

// The staff queue and the yearly report read the Requests table through
// its status index: one Query per status, never a Scan.

import (
	"context"
	"slices"
	"strconv"

	"github.com/veil-privacy/veil/pkg/reports"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Open are the statuses of the queue when no status is asked for.
var Open = []requests.Status{requests.Received, requests.Verifying, requests.AwaitingDecision, requests.Processing,
	requests.Appealed, requests.Failed}

// All are every status.
var All = []requests.Status{requests.Received, requests.Verifying, requests.AwaitingDecision, requests.Processing,
	requests.Completed, requests.CompletedWithGaps, requests.Denied, requests.Appealed, requests.ClosedUnverified, requests.Failed}

// Filter is a queue query.
type Filter struct {
	Statuses     []requests.Status
	Type         requests.Type
	Channel      requests.Channel
	Jurisdiction string
	Limit        int
	Next         string
}

// MaxQueue bounds how many requests one status contributes to a queue
// read.
const MaxQueue = 10000

// List returns a page of the queue, soonest due first, and the token of
// the next page ("" after the last). A bad page token is a
// *veil.ValidationError.
func (s *Service) List(ctx context.Context, f Filter) ([]requeststore.Request, string, error) {
	offset := 0
	if f.Next != "" {
		n, err := strconv.Atoi(f.Next)
		if err != nil || n < 0 {
			return nil, "", veil.Invalid("nextToken", "not a token this API gave")
		}
		offset = n
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = Open
	}
	all, err := s.read(ctx, statuses)
	if err != nil {
		return nil, "", err
	}
	out := all[:0]
	for _, r := range all {
		if (f.Type == "" || r.Type == f.Type) && (f.Channel == "" || r.Channel == f.Channel) &&
			(f.Jurisdiction == "" || r.Jurisdiction == f.Jurisdiction) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b requeststore.Request) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return a.Received.Compare(b.Received)
	})
	if offset >= len(out) {
		return nil, "", nil
	}
	end := min(offset+f.Limit, len(out))
	next := ""
	if end < len(out) {
		next = strconv.Itoa(end)
	}
	return out[offset:end], next, nil
}

func (s *Service) read(ctx context.Context, statuses []requests.Status) ([]requeststore.Request, error) {
	var all []requeststore.Request
	for _, st := range statuses {
		next, n := "", 0
		for {
			page, tok, err := s.Store.Queue(ctx, st, 500, next)
			if err != nil {
				return nil, err
			}
			all = append(all, page...)
			n += len(page)
			if tok == "" || n >= MaxQueue {
				break
			}
			next = tok
		}
	}
	return all, nil
}

// Metrics returns the CCPA regulations §7102 figures of year.
func (s *Service) Metrics(ctx context.Context, year int) (reports.Report, error) {
	if year < 2020 || year > 9999 {
		return reports.Report{}, veil.Invalid("year", "a year from 2020 on")
	}
	all, err := s.read(ctx, All)
	if err != nil {
		return reports.Report{}, err
	}
	return reports.Metrics(year, all, s.zone()), nil
}

// DaysLeft returns the calendar days from today to r's due date (its
// appeal's while appealed).
func (s *Service) DaysLeft(r requeststore.Request) int {
	due := r.Due
	if r.Status == requests.Appealed && r.Appeal != nil {
		due = r.Appeal.Due
	}
	return requests.DaysLeft(due, s.today())
}

// Today is the business's date now.
func (s *Service) Today() requests.Date { return s.today() }
