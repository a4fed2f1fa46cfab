package requestflow

// What the consumer and staff are told, and to which address. Notices go
// to the identifiers the consumer proved (all they named, before any is
// proved) and to the authorized agent who filed; staff messages name the
// request by reference and ID, never by an identifier.

import (
	"context"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/notify"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// notice is a message to the consumer: Subject for email, Body for both.
type notice struct{ Subject, Body string }

var typeWords = map[requests.Type]string{
	requests.Access:  "to know what personal information we hold about you",
	requests.Delete:  "to delete your personal information",
	requests.Correct: "to correct your personal information",
	requests.OptOut:  "to opt out of sale, sharing and contact",
}

func acknowledgement(r requeststore.Request) notice {
	return notice{Subject: "We received your privacy request " + r.Reference,
		Body: fmt.Sprintf("We received your request %s on %s. Your reference is %s. We will respond by %s. "+
			"If we sent you a verification code, enter it to confirm the request is yours.",
			typeWords[r.Type], r.Received.Format("2 January 2006"), r.Reference, r.Due)}
}

func unverifiedMessage(r requeststore.Request) notice {
	body := fmt.Sprintf("We could not verify your request %s (%s) within 10 days, so we have closed it.", r.Reference, typeWords[r.Type])
	if r.Type == requests.Delete {
		body += " As the law directs, we have treated it as a request to opt out: we will not sell, share or use your contact details for marketing calls."
	}
	return notice{Subject: "Your privacy request " + r.Reference + " was closed", Body: body + " You may file a new request at any time."}
}

func deniedMessage(r requeststore.Request, j requests.Jurisdiction, appeal bool) notice {
	reason := ""
	if r.Decision != nil {
		reason = r.Decision.Reason
	}
	if appeal && r.Appeal != nil && r.Appeal.Decision != nil {
		reason = r.Appeal.Decision.Reason
	}
	body := fmt.Sprintf("We cannot fulfil your request %s (%s). Reason: %s.", r.Reference, typeWords[r.Type], strings.TrimSuffix(reason, "."))
	switch {
	case appeal:
		body += " Your appeal has been decided and denied."
		if j.AppealContact != "" {
			body += " If you have concerns about the result of the appeal, you may contact " + j.AppealContact + "."
		}
	case j.Appeal != nil:
		body += " You may appeal this decision with your request's status link; an appeal is decided by someone other than the person who made this decision."
	case j.AppealContact != "":
		body += " You may complain to " + j.AppealContact + "."
	}
	return notice{Subject: "Your privacy request " + r.Reference, Body: body}
}

func extendedMessage(r requeststore.Request) notice {
	return notice{Subject: "Your privacy request " + r.Reference + " needs more time",
		Body: fmt.Sprintf("We need more time to respond to your request %s. Reason: %s. We will respond by %s.",
			r.Reference, strings.TrimSuffix(r.ExtendReason, "."), r.Due)}
}

func completion(r requeststore.Request) notice {
	n := notice{Subject: "Your privacy request " + r.Reference + " is complete"}
	switch r.Type {
	case requests.Access:
		n.Body = fmt.Sprintf("Your request %s is complete.", r.Reference)
	case requests.Delete:
		n.Body = fmt.Sprintf("We have deleted (pseudonymized) the personal information we found about you for request %s, in every list and every stored version of it, and we will keep you off our future lists.", r.Reference)
		if r.Result != nil && r.Result.JobID != "" {
			n.Body += " Certificate: " + r.Result.JobID + "."
		}
	case requests.Correct:
		n.Body = fmt.Sprintf("We have corrected the personal information you named for request %s, in every list that held it.", r.Reference)
	case requests.OptOut:
		n.Body = fmt.Sprintf("We have recorded your opt-out (request %s): we will not sell or share your personal information or call you for marketing.", r.Reference)
	}
	if r.Status == requests.CompletedWithGaps {
		n.Body += " Some of our lists could not be read when we searched; we will answer for them as soon as they can be."
	}
	return n
}

func withLinks(n notice, l requeststore.Links) notice {
	n.Body += " Download your information (the links work for a limited time):"
	for _, u := range l.URLs {
		if u != "" {
			n.Body += "\n" + u
		}
	}
	return n
}

// recipients are where notices to r's consumer go: the proven phones and
// emails (all named, before any is proven), and the authorized agent.
func recipients(r requeststore.Request) (emails, phones []string) {
	for _, p := range r.Proofs {
		switch p.Kind {
		case identifiers.Email:
			emails = appendOnce(emails, p.Value)
		case identifiers.Phone:
			phones = appendOnce(phones, p.Value)
		}
	}
	if len(emails)+len(phones) == 0 {
		emails, phones = r.Emails, r.Phones
	}
	if r.AuthorizedAgent != nil && r.AuthorizedAgent.Email != "" {
		emails = appendOnce(emails, r.AuthorizedAgent.Email)
	}
	return emails, phones
}

// tell sends n to r's consumer: by email where there is one, else by SMS.
func (s *Service) tell(ctx context.Context, r requeststore.Request, n notice) error {
	if s.Notify == nil {
		return nil
	}
	emails, phones := recipients(r)
	for _, e := range emails {
		if err := s.Notify.SendEmail(ctx, notify.Message{To: e, Subject: n.Subject, Body: n.Body}); err != nil {
			return fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	if len(emails) > 0 {
		return nil
	}
	for _, p := range phones {
		if err := s.Notify.SendSMS(ctx, notify.Message{To: p, Body: n.Body}); err != nil {
			return fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	return nil
}

func (s *Service) sendCode(ctx context.Context, r requeststore.Request, kind identifiers.Kind, to, code string) error {
	if s.Notify == nil {
		return nil
	}
	body := fmt.Sprintf("Your verification code for privacy request %s is %s. It expires in 15 minutes. If you did not make this request, ignore this message.", r.Reference, code)
	var err error
	if kind == identifiers.Phone {
		err = s.Notify.SendSMS(ctx, notify.Message{To: to, Body: body})
	} else {
		err = s.Notify.SendEmail(ctx, notify.Message{To: to, Subject: "Your verification code for " + r.Reference, Body: body})
	}
	if err != nil {
		return fmt.Errorf("request %s: code: %w", r.ID, err)
	}
	return nil
}

// tellLocked tells the owner of identifier v (of kind) that wrong codes
// have locked it. The lock stands whether or not the notice goes, and the
// guesser's answer must not depend on it, so a failure is logged only.
func (s *Service) tellLocked(ctx context.Context, r requeststore.Request, kind identifiers.Kind, v string) {
	if s.Notify == nil {
		return
	}
	what := "email address"
	if kind == identifiers.Phone {
		what = "phone number"
	}
	body := fmt.Sprintf("Five wrong verification codes were entered for this %s within 24 hours (the last on privacy request %s), "+
		"so it cannot be verified by code for 24 hours. If this was not you, someone may be trying to make a privacy request in your name: "+
		"nothing about you was shared, and you need do nothing. You may ask for a new code after the 24 hours.", what, r.Reference)
	var err error
	if kind == identifiers.Phone {
		err = s.Notify.SendSMS(ctx, notify.Message{To: v, Body: body})
	} else {
		err = s.Notify.SendEmail(ctx, notify.Message{To: v, Subject: "Verification locked for 24 hours", Body: body})
	}
	if err != nil {
		s.log().ErrorContext(ctx, "lock notice not sent", "privacyRequest", r.ID, "kind", kind.String(), "error", err)
	}
}

func (s *Service) notifyStaff(ctx context.Context, to, subject, body string) error {
	if s.Notify == nil || to == "" {
		return nil
	}
	if err := s.Notify.SendEmail(ctx, notify.Message{To: to, Subject: subject, Body: body}); err != nil {
		return fmt.Errorf("staff message: %w", err)
	}
	return nil
}

// sendReminders sends one message per kind of what is due now (several
// reminder days falling due at once, after an outage, make one message).
func (s *Service) sendReminders(ctx context.Context, r requeststore.Request, sent []string, escalated string, due, today requests.Date) error {
	what := "request"
	if r.Status == requests.Appealed {
		what = "appeal of request"
	}
	left := requests.DaysLeft(due, today)
	reminded, overdue := false, false
	for _, m := range sent {
		switch {
		case m == escalated:
			if err := s.notifyStaff(ctx, s.Compliance, fmt.Sprintf("Escalation: %s %s is due today (%s)", what, r.Reference, due),
				fmt.Sprintf("The %s %s (%s, %s, %s) is due %s and has no decision. It is escalated to you.", what, r.Reference, r.ID, r.Type, r.Jurisdiction, due)); err != nil {
				return err
			}
		case strings.Contains(m, "overdue:") && !overdue:
			overdue = true
			if err := s.notifyStaff(ctx, s.Supervisors, fmt.Sprintf("Overdue on %s: %s %s (due %s)", today, what, r.Reference, due),
				fmt.Sprintf("The %s %s (%s) was due %s, %d days ago, and has no decision.", what, r.Reference, r.ID, due, -left)); err != nil {
				return err
			}
		case strings.Contains(m, "reminder:") && !reminded:
			reminded = true
			if err := s.notifyStaff(ctx, s.Supervisors, fmt.Sprintf("Reminder on %s: %s %s is due in %d days (%s)", today, what, r.Reference, left, due),
				fmt.Sprintf("The %s %s (%s, %s, %s) is due %s and needs your decision.", what, r.Reference, r.ID, r.Type, r.Jurisdiction, due)); err != nil {
				return err
			}
		}
	}
	return nil
}
