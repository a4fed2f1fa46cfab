package main

// The backfill's progress: one redrawn line on a terminal, a plain line per
// tenth of the work otherwise (logs of a CI job or `2> file`).

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/backfill"
)

const barWidth = 30

type progressBar struct {
	w        io.Writer
	tty      bool
	width    int
	last     backfill.Progress
	drawn    int // length of the terminal line drawn last
	reported int // objects done at the last plain line
	started  bool
}

func newProgressBar(w io.Writer, tty bool) *progressBar {
	return &progressBar{w: w, tty: tty, width: barWidth}
}

// update is a backfill.Options.Progress.
func (b *progressBar) update(p backfill.Progress) {
	b.last, b.started = p, true
	if b.tty {
		line := renderBar(p, b.width)
		n := utf8.RuneCountInString(line)
		fmt.Fprint(b.w, "\r"+line+strings.Repeat(" ", max(0, b.drawn-n)))
		b.drawn = n
		return
	}
	step := max(1, p.Listed/10)
	if !p.Listing && (p.Done-b.reported >= step || (p.Done == p.Listed && b.reported != p.Done)) {
		fmt.Fprintln(b.w, renderCounts(p))
		b.reported = p.Done
	}
}

// finish ends the terminal line.
func (b *progressBar) finish() {
	if b.tty && b.started {
		fmt.Fprintln(b.w)
	}
}

// renderBar draws `[=====>    ] 120/450 objects  26%  3 failed`.
func renderBar(p backfill.Progress, width int) string {
	filled := 0
	if p.Listed > 0 {
		filled = width * p.Done / p.Listed
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		if filled > 0 {
			bar = bar[:filled-1] + ">"
		}
		bar += strings.Repeat(" ", width-filled)
	}
	return "[" + bar + "] " + renderCounts(p)
}

func renderCounts(p backfill.Progress) string {
	pct := 0
	if p.Listed > 0 {
		pct = 100 * p.Done / p.Listed
	}
	s := fmt.Sprintf("%d/%d objects  %d%%", p.Done, p.Listed, pct)
	if p.Failed > 0 {
		s += fmt.Sprintf("  %d failed", p.Failed)
	}
	if p.Listing {
		s += "  listing…"
	}
	return s
}
