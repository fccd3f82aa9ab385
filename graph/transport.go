package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of GraphQL responses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// persistedQueryNotFound is the code gqlgen's APQ extension gives a hash it
// does not know; Apollo clients look for it to send the full query.
const persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// httpTransport serves GraphQL over HTTP as the GraphQL-over-HTTP
// specification describes it, in place of gqlgen's GET and POST transports:
//
//   - POST with Content-Type application/json only. Form and multipart
//     bodies, which a browser may send cross-site without a CORS preflight,
//     are refused with 415, so no simple cross-site form can run an
//     operation (CSRF).
//   - The body is read whole, under MAX_BODY_BYTES (413 past it, chunked or
//     not), and decoded strictly before anything else runs: a JSON array (a
//     batch), malformed JSON, or a parameter of the wrong type is 400 with a
//     message that never repeats the body.
//   - GET runs queries only; any other operation is 405 with Allow: POST,
//     and is never executed. Subscriptions need the websocket transport.
//   - Requests that fail before execution get 4xx with
//     application/graphql-response+json (400), and with application/json the
//     legacy codes: 422 for parse and validation errors, as gqlgen and the
//     contract have it, 200 for QUERY_TOO_COMPLEX. Executed operations get 200.
//   - A request error response has no "data" entry.
//
// hooks tell the HTTP layer what each request ran, for its log and metrics.
type httpTransport struct {
	hooks RequestHooks
}

var _ graphql.Transport = httpTransport{}

// Supports takes every request but websocket upgrades (for the websocket
// transport) and OPTIONS (answered by transport.Options).
func (httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && r.Method != http.MethodOptions
}

// Do answers one GraphQL request.
func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media := responseMediaType(r.Header.Get("Accept"))
	start := graphql.Now()
	var (
		params *graphql.RawParams
		fail   *requestError
	)
	switch r.Method {
	case http.MethodGet:
		params, fail = paramsFromURL(r.URL)
	case http.MethodPost:
		params, fail = paramsFromBody(r)
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		fail = &requestError{http.StatusMethodNotAllowed, models.CodeBadUserInput, "GraphQL is served over GET (queries) and POST"}
	}
	if fail != nil {
		t.writeRequestError(w, r, media, fail)
		return
	}
	t.execute(w, r, media, start, params, exec)
}

// execute runs the operation of params, read from r since start, and
// writes its answer in media. The upload transport runs its operations
// here too, once it has read them and their files.
func (t httpTransport) execute(w http.ResponseWriter, r *http.Request, media string, start time.Time, params *graphql.RawParams, exec graphql.GraphExecutor) {
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.hooks.named(r.Context(), params.OperationName)

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	ctx = graphql.WithOperationContext(ctx, opCtx)
	if errs != nil {
		for _, e := range errs {
			if _, coded := e.Extensions["code"]; !coded {
				// Everything that fails before execution is the request's
				// fault (a malformed APQ extension, say), not the server's.
				errcode.Set(e, string(models.CodeBadUserInput))
			}
		}
		resp := exec.DispatchError(ctx, errs)
		t.writeGraphQL(w, r, media, requestErrorStatus(media, resp.Errors), &graphql.Response{Errors: resp.Errors, Extensions: resp.Extensions}, false)
		return
	}
	t.hooks.understood(ctx, opCtx.Operation.Name)
	switch kind := opCtx.Operation.Operation; {
	case kind == ast.Subscription:
		t.writeRequestError(w, r, media, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "subscriptions are served over the websocket transport"})
		return
	case kind != ast.Query && r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		t.writeRequestError(w, r, media, &requestError{http.StatusMethodNotAllowed, models.CodeBadUserInput, fmt.Sprintf("a %s must be sent with POST", kind)})
		return
	}

	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil { // the request's context ended before execution began
		t.writeRequestError(w, r, media, &requestError{http.StatusServiceUnavailable, models.CodeInternal, "the request was cancelled or ran out of time"})
		return
	}
	t.writeGraphQL(w, r, media, http.StatusOK, resp, true)
}

// requestError is a request refused before GraphQL execution.
type requestError struct {
	status  int
	code    models.Code
	message string
}

// paramsFromBody decodes a POST body.
func paramsFromBody(r *http.Request) (*graphql.RawParams, *requestError) {
	mediaType, mediaParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != mediaJSON {
		return nil, &requestError{http.StatusUnsupportedMediaType, models.CodeBadUserInput, "a POST body must be application/json"}
	}
	if cs, ok := mediaParams["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &requestError{http.StatusUnsupportedMediaType, models.CodeBadUserInput, "a POST body must be UTF-8"}
	}
	if r.Body == nil {
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request has no body"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, bodyTooLarge(tooLarge.Limit)
		}
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request body could not be read"}
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(body) == 0:
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request has no body"}
	case body[0] == '[':
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "batched requests are not supported: send one operation per request"}
	case body[0] != '{':
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request body is not valid JSON"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request body holds more than one JSON value"}
	}
	return rawParams(func(name string) (json.RawMessage, bool) {
		v, ok := fields[name]
		return v, ok
	}, false)
}

// paramsFromURL decodes a GET request's query string, where variables and
// extensions are JSON text.
func paramsFromURL(u *url.URL) (*graphql.RawParams, *requestError) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the query string is malformed"}
	}
	return rawParams(func(name string) (json.RawMessage, bool) {
		if !q.Has(name) {
			return nil, false
		}
		return json.RawMessage(q.Get(name)), true
	}, true)
}

// rawParams checks each request parameter's type. get returns a
// parameter's JSON (a POST body's field) or its text (a GET parameter, when
// fromURL: query and operationName are then plain strings).
func rawParams(get func(string) (json.RawMessage, bool), fromURL bool) (*graphql.RawParams, *requestError) {
	p := &graphql.RawParams{}
	str := func(name string, dst *string) *requestError {
		v, ok := get(name)
		switch {
		case !ok:
			return nil
		case fromURL:
			*dst = string(v)
			return nil
		case isJSONNull(v):
			return nil
		case json.Unmarshal(v, dst) != nil:
			return &requestError{http.StatusBadRequest, models.CodeBadUserInput, name + " must be a string"}
		}
		return nil
	}
	obj := func(name string, dst *map[string]any) *requestError {
		v, ok := get(name)
		if !ok || isJSONNull(v) || fromURL && len(v) == 0 {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil || *dst == nil {
			return &requestError{http.StatusBadRequest, models.CodeBadUserInput, name + " must be a JSON object"}
		}
		if _, err := dec.Token(); err != io.EOF {
			return &requestError{http.StatusBadRequest, models.CodeBadUserInput, name + " must be a JSON object"}
		}
		return nil
	}
	var documentID string
	for _, err := range []*requestError{
		str("query", &p.Query),
		str("operationName", &p.OperationName),
		obj("variables", &p.Variables),
		obj("extensions", &p.Extensions),
		str("documentId", &documentID),
	} {
		if err != nil {
			return nil, err
		}
	}
	if documentID != "" {
		p.Extensions = trusted.WithDocumentID(p.Extensions, documentID)
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil && p.Extensions[trusted.DocumentIDKey] == nil {
		return nil, &requestError{http.StatusBadRequest, models.CodeBadUserInput, "the request has no query"}
	}
	return p, nil
}

func isJSONNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

func bodyTooLarge(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, models.CodeBadUserInput, fmt.Sprintf("the request body is larger than %d bytes", limit)}
}

// responseMediaType picks the response's media type from the Accept header:
// application/graphql-response+json when the client lists it before
// application/json, else application/json (also for a missing Accept, */*,
// or types we cannot produce, which the specification allows).
func responseMediaType(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mediaType {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// requestErrorStatus is the status of a response to a request that failed
// before execution.
func requestErrorStatus(media string, errs gqlerror.List) int {
	code := ""
	if len(errs) > 0 {
		code, _ = errs[0].Extensions["code"].(string)
	}
	switch {
	case code == persistedQueryNotFound:
		return http.StatusOK // Apollo clients retry with the query on this answer
	case media == mediaGraphQLResponse:
		return http.StatusBadRequest
	case code == errcode.ParseFailed || code == errcode.ValidationFailed:
		return http.StatusUnprocessableEntity
	case code == string(CodeQueryTooComplex):
		return http.StatusOK
	}
	return http.StatusBadRequest
}

// writeRequestError answers a request refused before execution.
func (t httpTransport) writeRequestError(w http.ResponseWriter, r *http.Request, media string, e *requestError) {
	resp := &graphql.Response{Errors: gqlerror.List{{
		Message:    e.message,
		Extensions: map[string]any{"code": string(e.code)},
	}}}
	t.writeGraphQL(w, r, media, e.status, resp, false)
}

// writeGraphQL writes a GraphQL response; withData says whether the
// "data" entry belongs in it (not for request errors).
func (t httpTransport) writeGraphQL(w http.ResponseWriter, r *http.Request, media string, status int, resp *graphql.Response, withData bool) {
	if t.hooks.Answered != nil {
		outcome := metrics.OutcomeOK
		if len(resp.Errors) > 0 {
			outcome, _ = resp.Errors[0].Extensions["code"].(string)
		}
		t.hooks.Answered(r.Context(), outcome)
	}
	var body []byte
	var err error
	if withData && onlyData(resp) {
		body = dataOnlyBody(resp.Data)
	} else if withData {
		body, err = json.Marshal(resp)
	} else {
		body, err = json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	}
	if err != nil {
		panic(fmt.Errorf("encode GraphQL response: %w", err)) // the recoverer logs it and answers 500
	}
	h := w.Header()
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// onlyData tells whether resp is nothing but its data, as a successful
// query or mutation's answer is.
func onlyData(resp *graphql.Response) bool {
	return len(resp.Data) > 0 && len(resp.Errors) == 0 && resp.Label == "" && resp.Path == nil &&
		resp.HasNext == nil && resp.Extensions == nil
}

// dataOnlyBody is json.Marshal of a response that holds only data, byte
// for byte, without what json.Marshal spends on the data: gqlgen wrote it
// as compact, valid JSON, which json.Marshal would scan again, validating
// and compacting it, to escape <, > and & for HTML. json.HTMLEscape does
// only the escaping.
func dataOnlyBody(data json.RawMessage) []byte {
	const prefix, suffix = `{"data":`, `}`
	buf := bytes.NewBuffer(make([]byte, 0, len(prefix)+len(data)+len(data)/8+len(suffix)))
	buf.WriteString(prefix)
	json.HTMLEscape(buf, data)
	buf.WriteString(suffix)
	return buf.Bytes()
}
