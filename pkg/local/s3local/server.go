package s3local

import (
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// Server returns the S3 protocol over b. It corrects two ways gofakes3
// differs from S3: a ranged GET carries no whole-object checksum on S3
// (the SDK would check the part against the whole and fail), so checksum
// headers are dropped from ranged responses; and gofakes3 answers a HEAD
// of one version (?versionId=) with the current version, or 404 under a
// delete marker, so such a HEAD is served as the GET of that version
// without its body; and it ignores the If-Match and If-None-Match of a
// CompleteMultipartUpload, which the backend checks on the write. Object
// Lock's requests are served from lock.go.
func Server(b *Backend) http.Handler {
	s3 := gofakes3.New(b, gofakes3.WithAutoBucket(false), gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.serveLock(w, r, s3) {
			return
		}
		if r.Method == http.MethodPost && r.URL.Query().Get("uploadId") != "" && (r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != "") {
			// A conditional CompleteMultipartUpload: gofakes3 ignores the
			// conditions, the backend checks them on the write.
			bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			cond := &gofakes3.PutConditions{}
			if v := r.Header.Get("If-Match"); v != "" {
				cond.IfMatch = &v
			}
			if v := r.Header.Get("If-None-Match"); v != "" {
				cond.IfNoneMatch = &v
			}
			b.withConditions(bucket, key, cond, func() { s3.ServeHTTP(w, r) })
			return
		}
		if r.Method == http.MethodHead && r.URL.Query().Get("versionId") != "" {
			get := r.Clone(r.Context())
			get.Method = http.MethodGet
			s3.ServeHTTP(headWriter{w}, get)
			return
		}
		if r.Header.Get("Range") == "" {
			s3.ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(&rangeWriter{ResponseWriter: w}, r)
	})
}

type rangeWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *rangeWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	for name := range w.Header() {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
			w.Header().Del(name)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rangeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// headWriter answers a HEAD from a GET's response: headers and status,
// no body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }
