package identifiers

// An exact, table-driven copy of libphonenumber's validity verdict for
// ten-digit numbers of the North American Numbering Plan (country code 1).
// phonenumbers.IsValidNumber answers by running up to a few hundred regular
// expressions (~10 µs a number); this builds, once, a deterministic
// automaton over the ten digits from the very same metadata patterns and
// the same decision procedure, so the answer is the library's by
// construction and costs ten table look-ups. FuzzPhoneFastPathMatchesLibphonenumber
// and TestNANPAMatchesLibphonenumber check the construction.

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// nsnDigits is the length of a NANP national significant number.
const nsnDigits = 10

// nanpaTable is the automaton: state 0 is the start, next[s*10+d] the state
// after digit d, valid[s] the verdict in a state reached after ten digits.
type nanpaTable struct {
	next  []int32
	valid []bool
}

// Valid reports whether libphonenumber holds +1 nsn valid; nsn must be ten
// ASCII digits.
func (t *nanpaTable) Valid(nsn []byte) bool {
	s := int32(0)
	for _, c := range nsn {
		s = t.next[int(s)*10+int(c-'0')]
	}
	return t.valid[s]
}

var (
	nanpaOnce  sync.Once
	nanpa      *nanpaTable
	errNANPA   error
	errPattern = errors.New("unsupported pattern construct")
)

// loadNANPA returns the automaton, building it on first use; it fails if
// the library's metadata uses a construct the builder does not model, in
// which case phones fall back to the library.
func loadNANPA() (*nanpaTable, error) {
	nanpaOnce.Do(func() { nanpa, errNANPA = buildNANPA() })
	return nanpa, errNANPA
}

// matcher is one compiled metadata pattern: whole-number (a number
// description) or prefix (a region's leading digits).
type matcher struct {
	prog   *syntax.Prog
	prefix bool
	never  bool // the description cannot match a ten-digit number
}

// region is one NANPA region's part of the decision.
type region struct {
	leading int   // matcher index of its leading digits, -1 if none
	general int   // matcher index of its general description
	types   []int // matcher indexes of the number types that make it valid
}

type builder struct {
	matchers []matcher
	regions  []region
}

func buildNANPA() (*nanpaTable, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil, fmt.Errorf("nanpa: metadata: %w", err)
	}
	byID := make(map[string]*phonenumbers.PhoneMetadata, len(coll.GetMetadata()))
	for _, m := range coll.GetMetadata() {
		byID[m.GetId()] = m
	}
	b := &builder{}
	for _, id := range phonenumbers.GetRegionCodesForCountryCode(1) {
		m := byID[id]
		if m == nil {
			return nil, fmt.Errorf("nanpa: no metadata for region %s", id)
		}
		r := region{leading: -1}
		if ld := m.GetLeadingDigits(); ld != "" {
			if r.leading, err = b.add(ld, true, nil); err != nil {
				return nil, err
			}
		}
		if r.general, err = b.add(m.GetGeneralDesc().GetNationalNumberPattern(), false, m.GetGeneralDesc()); err != nil {
			return nil, err
		}
		// The order and the mobile rule follow getNumberTypeHelper; only
		// whether some type matches matters for validity.
		descs := []*phonenumbers.PhoneNumberDesc{
			m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
			m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine(),
		}
		if !m.GetSameMobileAndFixedLinePattern() {
			descs = append(descs, m.GetMobile())
		}
		for _, d := range descs {
			i, err := b.add(d.GetNationalNumberPattern(), false, d)
			if err != nil {
				return nil, err
			}
			r.types = append(r.types, i)
		}
		b.regions = append(b.regions, r)
	}
	return b.build()
}

// add compiles a pattern and returns its matcher index.
func (b *builder) add(pattern string, prefix bool, desc *phonenumbers.PhoneNumberDesc) (int, error) {
	m := matcher{prefix: prefix}
	if desc == nil && !prefix {
		m.never = true
	}
	if desc != nil && len(desc.GetPossibleLength()) > 0 && !slices.Contains(desc.GetPossibleLength(), nsnDigits) {
		m.never = true
	}
	if !m.never {
		re, err := syntax.Parse(pattern, syntax.Perl)
		if err != nil {
			return 0, fmt.Errorf("nanpa: pattern: %w", err)
		}
		if m.prog, err = syntax.Compile(re.Simplify()); err != nil {
			return 0, fmt.Errorf("nanpa: pattern: %w", err)
		}
		for _, in := range m.prog.Inst {
			if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&^(syntax.EmptyBeginText|syntax.EmptyEndText|syntax.EmptyBeginLine|syntax.EmptyEndLine) != 0 {
				return 0, fmt.Errorf("nanpa: %w", errPattern)
			}
		}
	}
	b.matchers = append(b.matchers, m)
	return len(b.matchers) - 1, nil
}

// A state of the automaton is, for every matcher, the set of its
// instructions the NFA can be at (Rune or Match instructions), plus for
// prefix matchers whether they have matched already. It is encoded as a
// sorted list of (matcher, pc) pairs; pc -1 marks a matched prefix.
type nfaState []item

type item struct {
	m  int32
	pc int32
}

func (s nfaState) key() string {
	b := make([]byte, 0, len(s)*4)
	for _, it := range s {
		b = append(b, byte(it.m>>8), byte(it.m), byte(it.pc>>8), byte(it.pc))
	}
	return string(b)
}

// closure adds to set the leaves reachable from pc without input, at
// position pos of the ten digits.
func (b *builder) closure(set map[item]bool, m int, pc uint32, pos int) {
	prog := b.matchers[m].prog
	in := &prog.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		b.closure(set, m, in.Out, pos)
		b.closure(set, m, in.Arg, pos)
	case syntax.InstCapture, syntax.InstNop:
		b.closure(set, m, in.Out, pos)
	case syntax.InstEmptyWidth:
		op := syntax.EmptyOp(in.Arg)
		if op&(syntax.EmptyBeginText|syntax.EmptyBeginLine) != 0 && pos != 0 {
			return
		}
		if op&(syntax.EmptyEndText|syntax.EmptyEndLine) != 0 && pos != nsnDigits {
			return
		}
		b.closure(set, m, in.Out, pos)
	case syntax.InstFail:
	case syntax.InstMatch:
		if b.matchers[m].prefix {
			set[item{int32(m), -1}] = true
		} else {
			set[item{int32(m), int32(pc)}] = true
		}
	default: // rune instructions
		set[item{int32(m), int32(pc)}] = true
	}
}

// normalize turns a set into a state: a matched prefix drops its other
// instructions.
func normalize(set map[item]bool) nfaState {
	s := make(nfaState, 0, len(set))
	for it := range set {
		if it.pc != -1 && set[item{it.m, -1}] {
			continue
		}
		s = append(s, it)
	}
	slices.SortFunc(s, func(a, b item) int {
		if a.m != b.m {
			return int(a.m - b.m)
		}
		return int(a.pc - b.pc)
	})
	return s
}

func (b *builder) start() nfaState {
	set := map[item]bool{}
	for m, mt := range b.matchers {
		if !mt.never {
			b.closure(set, m, uint32(mt.prog.Start), 0)
		}
	}
	return normalize(set)
}

func (b *builder) step(s nfaState, digit rune, pos int) nfaState {
	set := map[item]bool{}
	for _, it := range s {
		if it.pc == -1 {
			set[it] = true
			continue
		}
		in := &b.matchers[it.m].prog.Inst[it.pc]
		if in.Op == syntax.InstMatch {
			continue
		}
		if in.MatchRune(digit) {
			b.closure(set, int(it.m), in.Out, pos)
		}
	}
	return normalize(set)
}

// verdict applies IsValidNumber's procedure to the matchers' outcomes in a
// state reached after all ten digits.
func (b *builder) verdict(s nfaState) bool {
	hit := make([]bool, len(b.matchers))
	for _, it := range s {
		m := b.matchers[it.m]
		if it.pc == -1 || (!m.prefix && m.prog.Inst[it.pc].Op == syntax.InstMatch) {
			hit[it.m] = true
		}
	}
	valid := func(r region) bool {
		if !hit[r.general] {
			return false
		}
		for _, t := range r.types {
			if hit[t] {
				return true
			}
		}
		return false
	}
	// GetRegionCodeForNumber, then IsValidNumberForRegion.
	for _, r := range b.regions {
		if r.leading >= 0 {
			if hit[r.leading] {
				return valid(r)
			}
		} else if valid(r) {
			return true
		}
	}
	return false
}

func (b *builder) build() (*nanpaTable, error) {
	t := &nanpaTable{}
	level := []nfaState{b.start()}
	base := int32(0) // id of level[0]
	for pos := 1; pos <= nsnDigits; pos++ {
		ids := map[string]int32{}
		var nextLevel []nfaState
		nextBase := base + int32(len(level))
		for _, s := range level {
			for d := range rune(10) {
				ns := b.step(s, '0'+d, pos)
				k := ns.key()
				id, ok := ids[k]
				if !ok {
					id = nextBase + int32(len(nextLevel))
					ids[k] = id
					nextLevel = append(nextLevel, ns)
				}
				t.next = append(t.next, id)
			}
		}
		level, base = nextLevel, nextBase
	}
	t.valid = make([]bool, int(base)+len(level))
	for i, s := range level {
		t.valid[int(base)+i] = b.verdict(s)
	}
	return t, nil
}
