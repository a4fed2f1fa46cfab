package s3local

// S3 Object Lock, as S3 keeps it: a bucket created with Object Lock (or
// given an Object Lock configuration once versioned) holds every new
// version under a retention (the bucket's default, or the put's own
// x-amz-object-lock-* headers); until that date no one deletes the version
// (DeleteObject with its versionId answers 403 AccessDenied, and so does
// each such entry of a DeleteObjects), and a COMPLIANCE retention can be
// lengthened, never shortened nor changed to GOVERNANCE. A DeleteObject
// without a versionId only adds a delete marker, which Object Lock allows:
// the locked version stays. Lock is never turned off again, and it keeps
// versioning on. gofakes3 knows nothing of it; the state lives here and is
// journaled with the mutations that set it.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Object Lock retention modes.
const (
	ModeCompliance = "COMPLIANCE"
	ModeGovernance = "GOVERNANCE"
)

// errAccessDenied is S3's answer to a change Object Lock forbids.
var errAccessDenied = gofakes3.ErrorMessage("AccessDenied", "Access Denied because object protected by object lock.")

// lockRule is a bucket's Object Lock configuration: enabled, with an
// optional default retention.
type lockRule struct {
	Mode  string `json:"mode,omitempty"`
	Days  int    `json:"days,omitempty"`
	Years int    `json:"years,omitempty"`
}

// retention is one version's.
type retention struct {
	Mode  string    `json:"mode"`
	Until time.Time `json:"until"`
}

type lockRef struct{ bucket, key, version string }

// lockConfigXML is the body of PutObjectLockConfiguration and
// GetObjectLockConfiguration.
type lockConfigXML struct {
	XMLName           xml.Name `xml:"ObjectLockConfiguration"`
	Xmlns             string   `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string   `xml:"ObjectLockEnabled"`
	Rule              *struct {
		DefaultRetention struct {
			Mode  string `xml:"Mode"`
			Days  int    `xml:"Days,omitempty"`
			Years int    `xml:"Years,omitempty"`
		} `xml:"DefaultRetention"`
	} `xml:"Rule,omitempty"`
}

// retentionXML is the body of PutObjectRetention and GetObjectRetention.
type retentionXML struct {
	XMLName         xml.Name `xml:"Retention"`
	Xmlns           string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode"`
	RetainUntilDate string   `xml:"RetainUntilDate"`
}

// SetObjectLock enables Object Lock on bucket, with a default retention of
// days (0: none) in mode, and turns versioning on as S3's CreateBucket with
// Object Lock does. It returns gofakes3's NoSuchBucket for a missing
// bucket, and InvalidArgument for a mode S3 does not know.
func (b *Backend) SetObjectLock(bucket, mode string, days int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	rule := lockRule{Mode: mode, Days: days}
	if err := b.setLock(bucket, rule); err != nil {
		return err
	}
	return b.record(entry{Op: "SetObjectLock", Bucket: bucket, Lock: &rule})
}

// ObjectLock returns bucket's default retention (mode and days) and whether
// Object Lock is on.
func (b *Backend) ObjectLock(bucket string) (mode string, days int, ok bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.locks[bucket]
	return r.Mode, r.Days + 365*r.Years, ok
}

// setLock is SetObjectLock without the journal; the caller holds b.mu.
func (b *Backend) setLock(bucket string, rule lockRule) error {
	if ok, err := b.Backend.BucketExists(bucket); err != nil || !ok {
		return gofakes3.BucketNotFound(bucket)
	}
	if rule.Mode != "" && rule.Mode != ModeCompliance && rule.Mode != ModeGovernance {
		return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument, "unknown Object Lock mode %q", rule.Mode)
	}
	if rule.Mode != "" && rule.Days <= 0 && rule.Years <= 0 {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "a default retention needs Days or Years")
	}
	var v gofakes3.VersioningConfiguration
	v.SetEnabled(true)
	if err := b.Backend.SetVersioningConfiguration(bucket, v); err != nil {
		return err
	}
	b.locks[bucket] = rule
	return nil
}

// retentionFor returns the retention a new version of bucket gets at now:
// the put's headers (in meta, as gofakes3 keeps every X-Amz-* header),
// else the bucket's default; ok is false when it gets none. The caller
// holds b.mu.
// lockTime is the time a retention is judged against: the wall clock, or a
// test's (lockNow), so that a retention's end is reached without waiting
// for it.
func (b *Backend) lockTime() time.Time {
	if b.lockNow != nil {
		return b.lockNow()
	}
	return time.Now()
}

func (b *Backend) retentionFor(bucket string, meta map[string]string, now time.Time) (retention, bool, error) {
	rule, locked := b.locks[bucket]
	mode, until := "", ""
	for k, v := range meta {
		switch strings.ToLower(k) {
		case "x-amz-object-lock-mode":
			mode = v
		case "x-amz-object-lock-retain-until-date":
			until = v
		}
	}
	if mode != "" || until != "" {
		if !locked {
			return retention{}, false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Bucket is missing Object Lock Configuration")
		}
		t, err := time.Parse(time.RFC3339, until)
		if err != nil || (mode != ModeCompliance && mode != ModeGovernance) {
			return retention{}, false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "x-amz-object-lock-mode and x-amz-object-lock-retain-until-date must be given together and be valid")
		}
		if !t.After(now) {
			return retention{}, false, gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "The retain until date must be in the future!")
		}
		return retention{Mode: mode, Until: t.UTC()}, true, nil
	}
	if !locked || rule.Mode == "" {
		return retention{}, false, nil
	}
	return retention{Mode: rule.Mode, Until: now.AddDate(rule.Years, 0, rule.Days).UTC()}, true, nil
}

// withoutLockHeaders returns meta without the put's Object Lock headers:
// the retention is kept beside the version, and gofakes3 would carry the
// headers into the next version of the key.
func withoutLockHeaders(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-object-lock-") {
			continue
		}
		out[k] = v
	}
	return out
}

// Retention returns the retention of one version, and false when it has
// none.
func (b *Backend) Retention(bucket, key, version string) (mode string, until time.Time, ok bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.retained[lockRef{bucket, key, version}]
	return r.Mode, r.Until, ok
}

// locked returns an error when Object Lock forbids deleting the version;
// bypass is x-amz-bypass-governance-retention. The caller holds b.mu.
func (b *Backend) locked(bucket, key, version string, bypass bool) error {
	r, ok := b.retained[lockRef{bucket, key, version}]
	if !ok || !r.Until.After(b.lockTime()) || (r.Mode == ModeGovernance && bypass) {
		return nil
	}
	return errAccessDenied
}

// PutRetention sets one version's retention. Shortening a COMPLIANCE
// retention, or changing its mode, returns AccessDenied, as does
// shortening a GOVERNANCE one without bypass; a version that does not
// exist returns NoSuchVersion.
func (b *Backend) PutRetention(bucket, key, version string, r retention, bypass bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	if _, ok := b.locks[bucket]; !ok {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Bucket is missing Object Lock Configuration")
	}
	if r.Mode != ModeCompliance && r.Mode != ModeGovernance {
		return gofakes3.ErrorMessagef(gofakes3.ErrMalformedXML, "unknown Object Lock mode %q", r.Mode)
	}
	if _, err := b.Backend.HeadObjectVersion(bucket, key, b.innerVersion(bucket, version)); err != nil {
		return err
	}
	ref := lockRef{bucket, key, version}
	if old, ok := b.retained[ref]; ok && old.Until.After(b.lockTime()) {
		shorter := r.Until.Before(old.Until)
		switch {
		case old.Mode == ModeCompliance && (shorter || r.Mode != ModeCompliance):
			return errAccessDenied
		case old.Mode == ModeGovernance && shorter && !bypass:
			return errAccessDenied
		}
	}
	b.retained[ref] = r
	return b.record(entry{Op: "SetRetention", Bucket: bucket, Key: key, VersionID: version, Retention: &r})
}

func (b *Backend) innerVersion(bucket, version string) gofakes3.VersionID {
	if inner, ok := b.aliases.toInner(bucket, gofakes3.VersionID(version)); ok {
		return inner
	}
	return gofakes3.VersionID(version)
}

// serveLock answers the Object Lock requests gofakes3 does not know and
// refuses the deletes Object Lock forbids; it returns false for any other
// request.
func (b *Backend) serveLock(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	_, lockQuery := q["object-lock"]
	_, retentionQuery := q["retention"]
	bypass := strings.EqualFold(r.Header.Get("x-amz-bypass-governance-retention"), "true")
	switch {
	case key == "" && r.Method == http.MethodPut && len(q) == 0 && strings.EqualFold(r.Header.Get("x-amz-bucket-object-lock-enabled"), "true"):
		rec := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status/100 == 2 {
			_ = b.SetObjectLock(bucket, "", 0)
		}
	case key == "" && lockQuery && r.Method == http.MethodPut:
		var body lockConfigXML
		if err := xml.NewDecoder(r.Body).Decode(&body); err != nil || body.ObjectLockEnabled != "Enabled" {
			writeS3Error(w, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "The XML you provided was not well-formed"))
			return true
		}
		if v, err := b.VersioningConfiguration(bucket); err == nil && !v.Enabled() {
			writeS3Error(w, gofakes3.ErrorMessage("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"))
			return true
		}
		var rule lockRule
		if body.Rule != nil {
			rule = lockRule{Mode: body.Rule.DefaultRetention.Mode, Days: body.Rule.DefaultRetention.Days, Years: body.Rule.DefaultRetention.Years}
		}
		b.mu.Lock()
		err := b.setLock(bucket, rule)
		if err == nil {
			err = b.record(entry{Op: "SetObjectLock", Bucket: bucket, Lock: &rule})
		}
		b.mu.Unlock()
		if err != nil {
			writeS3Error(w, err)
			return true
		}
		w.WriteHeader(http.StatusOK)
	case key == "" && lockQuery && r.Method == http.MethodGet:
		b.mu.RLock()
		rule, ok := b.locks[bucket]
		b.mu.RUnlock()
		if !ok {
			writeS3Error(w, gofakes3.ErrorMessage("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"))
			return true
		}
		out := lockConfigXML{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", ObjectLockEnabled: "Enabled"}
		if rule.Mode != "" {
			out.Rule = &struct {
				DefaultRetention struct {
					Mode  string `xml:"Mode"`
					Days  int    `xml:"Days,omitempty"`
					Years int    `xml:"Years,omitempty"`
				} `xml:"DefaultRetention"`
			}{}
			out.Rule.DefaultRetention.Mode, out.Rule.DefaultRetention.Days, out.Rule.DefaultRetention.Years = rule.Mode, rule.Days, rule.Years
		}
		writeXML(w, out)
	case key != "" && retentionQuery && r.Method == http.MethodPut:
		var body retentionXML
		if err := xml.NewDecoder(r.Body).Decode(&body); err != nil {
			writeS3Error(w, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "The XML you provided was not well-formed"))
			return true
		}
		until, err := time.Parse(time.RFC3339, body.RetainUntilDate)
		if err != nil {
			writeS3Error(w, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "RetainUntilDate is not a date"))
			return true
		}
		version := q.Get("versionId")
		if version == "" {
			version = b.currentVersion(bucket, key)
		}
		if err := b.PutRetention(bucket, key, version, retention{Mode: body.Mode, Until: until.UTC()}, bypass); err != nil {
			writeS3Error(w, err)
			return true
		}
		w.WriteHeader(http.StatusOK)
	case key != "" && retentionQuery && r.Method == http.MethodGet:
		version := q.Get("versionId")
		if version == "" {
			version = b.currentVersion(bucket, key)
		}
		mode, until, ok := b.Retention(bucket, key, version)
		if !ok {
			writeS3Error(w, gofakes3.ErrorMessage("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration"))
			return true
		}
		writeXML(w, retentionXML{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Mode: mode, RetainUntilDate: until.Format(time.RFC3339)})
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && len(q) <= 1 && (len(q) == 0 || q.Get("versionId") != ""):
		// A read of a retained version names its retention, as S3's
		// GetObject and HeadObject do.
		b.mu.RLock()
		_, locked := b.locks[bucket]
		b.mu.RUnlock()
		if locked {
			version := q.Get("versionId")
			if version == "" {
				version = b.currentVersion(bucket, key)
			}
			if mode, until, ok := b.Retention(bucket, key, version); ok {
				w.Header().Set("x-amz-object-lock-mode", mode)
				w.Header().Set("x-amz-object-lock-retain-until-date", until.Format(time.RFC3339))
			}
		}
		return false
	case key != "" && r.Method == http.MethodDelete && q.Get("versionId") != "":
		b.mu.RLock()
		err := b.locked(bucket, key, q.Get("versionId"), bypass)
		b.mu.RUnlock()
		if err != nil {
			writeS3Error(w, err)
			return true
		}
		return false
	default:
		return false
	}
	return true
}

// currentVersion returns the version ID of key's current version ("" for
// none).
func (b *Backend) currentVersion(bucket, key string) string {
	obj, err := b.HeadObject(bucket, key)
	if err != nil {
		return ""
	}
	obj.Contents.Close()
	return string(obj.VersionID)
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// writeS3Error writes err as S3's XML error, with the status S3 gives its
// code (gofakes3 knows no status for the Object Lock codes).
func writeS3Error(w http.ResponseWriter, err error) {
	code, msg := gofakes3.ErrInternal, err.Error()
	if er, ok := err.(*gofakes3.ErrorResponse); ok {
		code, msg = er.Code, er.Message
	} else if e, ok := err.(gofakes3.Error); ok {
		code = e.ErrorCode()
	}
	status := code.Status()
	switch code {
	case "AccessDenied":
		status = http.StatusForbidden
	case "InvalidBucketState":
		status = http.StatusConflict
	case "ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration":
		status = http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s<Error><Code>%s</Code><Message>%s</Message></Error>", xml.Header, code, xmlEscape(msg))
}

func writeXML(w http.ResponseWriter, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(append([]byte(xml.Header), body...))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
