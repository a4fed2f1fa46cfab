package identifiers

// The indexing hot path: one record in, its index entries out, without
// allocating.

// Entry is one index entry of a record: which column held the identifier,
// its kind, and its hash. The raw and normalized values are not kept.
type Entry struct {
	Column int
	Kind   Kind
	Hash   Hash
	// Placeholder says the value is one that identifies nobody (see
	// Placeholder): N/A, 0000000000, test@test.com.
	Placeholder bool
}

// Key returns the entry's index key (the hash in hex).
func (e Entry) Key() string { return e.Hash.String() }

// ColumnStats counts what an Indexer made of one identifier column. A
// cell may hold several values (SplitValues); Indexed and Invalid count
// values, Empty counts cells.
type ColumnStats struct {
	Column  int
	Kind    Kind
	Indexed int64 // values that became an entry (duplicates in a record included)
	Empty   int64 // cells without a value (blank, or only separators and blanks) and fields missing from ragged records
	Invalid int64 // values that are not a valid identifier of the kind
}

// Indexer turns the records of one lead list into index entries. It is not
// safe for concurrent use; give each goroutine its own.
type Indexer struct {
	cols  []Column
	norm  *Normalizer
	keyer *Keyer
	buf   []byte
	vals  []string // one cell's values, reused
	stats []ColumnStats
}

// NewIndexer returns an Indexer keying with secret the identifier columns
// of schema, reading phones without a country code as numbers of region
// ("" is DefaultRegion). It fails with ErrShortSecret or ErrUnknownRegion.
func NewIndexer(secret []byte, schema Schema, region string) (*Indexer, error) {
	keyer, err := NewKeyer(secret)
	if err != nil {
		return nil, err
	}
	norm, err := NewNormalizer(region)
	if err != nil {
		return nil, err
	}
	ix := &Indexer{cols: schema.Identifiers(), norm: norm, keyer: keyer, buf: make([]byte, 0, 64), vals: make([]string, 0, 4)}
	for _, c := range ix.cols {
		ix.stats = append(ix.stats, ColumnStats{Column: c.Index, Kind: c.Kind})
	}
	return ix, nil
}

// Append appends to dst the entries of one record, given its fields in
// header order, and returns the extended slice. Each value of a cell
// (SplitValues) gives its own entry, with the cell's column. Blank and
// invalid values are counted (Stats) and skipped; an identifier that
// appears twice in the record gives one entry. A placeholder value
// (Placeholder) is indexed like any other, its entry marked. It never
// fails.
func (ix *Indexer) Append(dst []Entry, fields []string) []Entry {
	start := len(dst)
	for i, c := range ix.cols {
		st := &ix.stats[i]
		if c.Index >= len(fields) {
			st.Empty++
			continue
		}
		ix.vals = AppendValues(ix.vals[:0], c.Kind, fields[c.Index])
		empty := true
		for _, v := range ix.vals {
			// The HMAC input is the kind prefix and the normalized value,
			// built in one buffer so that it is hashed in one write.
			var err error
			ix.buf = ix.keyer.appendPrefix(ix.buf[:0], c.Kind)
			prefix := len(ix.buf)
			ix.buf, err = ix.norm.Append(ix.buf, c.Kind, v)
			if err == ErrEmpty { // "mailto:" alone
				continue
			}
			empty = false
			if err != nil {
				st.Invalid++
				continue
			}
			st.Indexed++
			h := ix.keyer.sum(ix.buf)
			if !seen(dst[start:], h) {
				dst = append(dst, Entry{Column: c.Index, Kind: c.Kind, Hash: h, Placeholder: placeholder(c.Kind, ix.buf[prefix:])})
			}
		}
		if empty {
			st.Empty++
		}
	}
	return dst
}

func seen(es []Entry, h Hash) bool {
	for i := range es {
		if es[i].Hash == h {
			return true
		}
	}
	return false
}

// Stats returns the counts per identifier column so far.
func (ix *Indexer) Stats() []ColumnStats {
	return append([]ColumnStats(nil), ix.stats...)
}
