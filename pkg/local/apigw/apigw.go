// Package apigw is the local stack's API Gateway: template.yaml's HttpApi
// routes served as payload-2.0 events to the functions, with the JWT
// authorizer's work (401 for a missing or bad token, claims passed on) done
// with local development tokens.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/veil-privacy/veil/pkg/local/devauth"
	"github.com/veil-privacy/veil/pkg/local/sigv4"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// Invoker invokes a function by name with a JSON payload.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Server routes HTTP requests to functions.
type Server struct {
	routes  []samtemplate.Route
	invoker Invoker
	key     devauth.Key
	iam     sigv4.Verifier
	// Health answers GET /health: nil means healthy.
	Health func() error
}

// New returns a Server for routes in region: AWS_IAM routes take
// signatures for execute-api in that region.
func New(routes []samtemplate.Route, invoker Invoker, key devauth.Key, region string) *Server {
	return &Server{routes: routes, invoker: invoker, key: key,
		iam: sigv4.Verifier{Service: "execute-api", Region: region, Credentials: localCredentials}}
}

// match finds the route for method and path and its path parameters.
func (s *Server) match(method, path string) (samtemplate.Route, map[string]string, bool) {
	for _, rt := range s.routes {
		if rt.Method != method && rt.Method != "ANY" {
			continue
		}
		if params, ok := matchPath(rt.Path, path); ok {
			return rt, params, true
		}
	}
	return samtemplate.Route{}, nil, false
}

func matchPath(pattern, path string) (map[string]string, bool) {
	pp := strings.Split(strings.Trim(pattern, "/"), "/")
	xp := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, seg := range pp {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			params[strings.Trim(seg, "{+}")] = strings.Join(xp[i:], "/")
			return params, i < len(xp)
		}
		if i >= len(xp) {
			return nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params[strings.Trim(seg, "{}")] = xp[i]
			continue
		}
		if seg != xp[i] {
			return nil, false
		}
	}
	return params, len(pp) == len(xp)
}

// ServeHTTP serves one request as API Gateway would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/health" {
		s.health(w)
		return
	}
	rt, params, ok := s.match(r.Method, r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	var jwtCtx *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Bad Request"})
		return
	}
	switch rt.Authorizer {
	case "NONE":
	case "AWS_IAM":
		caller, err := s.iam.Verify(r, body, time.Now())
		if err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Forbidden"})
			return
		}
		jwtCtx = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: iamDescription(caller)}
	default:
		token := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		claims, err := s.key.Claims(token)
		if token == "" || err != nil {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		jwtCtx = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: nil},
		}
	}
	ev := event(r, rt, params, body, jwtCtx)
	payload, _ := json.Marshal(ev)
	out, err := s.invoker.Invoke(r.Context(), rt.Function, payload)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
		return
	}
	writeResult(w, out)
}

func (s *Server) health(w http.ResponseWriter) {
	if s.Health != nil {
		if err := s.Health(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting", "detail": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func event(r *http.Request, rt samtemplate.Route, params map[string]string, body []byte, authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for name, vals := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					cookies = append(cookies, strings.TrimSpace(c))
				}
			}
			continue
		}
		headers[lname] = strings.Join(vals, ",")
	}
	// As API Gateway does: the function learns how it was called.
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	headers["x-forwarded-for"] = strings.Split(r.RemoteAddr, ":")[0]
	query := map[string]string{}
	for name, vals := range r.URL.Query() {
		query[name] = strings.Join(vals, ",")
	}
	now := time.Now().UTC()
	routeKey := rt.Method + " " + rt.Path
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    uuid.NewString(),
			Authorizer:   authz,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: strings.Split(r.RemoteAddr, ":")[0], UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// writeResult writes a function's result as API Gateway's payload 2.0 does:
// a response object with statusCode is used as is; anything else is a 200
// JSON body.
func writeResult(w http.ResponseWriter, out []byte) {
	var resp events.APIGatewayV2HTTPResponse
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil || json.Unmarshal(out, &resp) != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.StatusCode)
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
