package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MaxUploadFiles is how many files one multipart request may carry, and
// MaxUploadTargets how many variables one file may fill: a photo mutation
// takes one file, and the body limit (MaxBodyBytes) is one file's worth.
const (
	MaxUploadFiles   = 1
	MaxUploadTargets = 1
)

// UploadAllowance is how many bytes of a multipart upload request may be
// other than its files: the operations and map parts and the multipart
// framing.
const UploadAllowance = 64 << 10

// uploadMutations are the only fields a multipart request may select.
var uploadMutations = map[string]bool{
	"addVehiclePhoto": true, "removeVehiclePhoto": true, "reorderVehiclePhotos": true,
}

// UploadTransport serves the GraphQL multipart request specification
// (https://github.com/jaydenseric/graphql-multipart-request-spec): an
// "operations" part, a "map" part, then the files, which fill the Upload
// variables the map names. It takes only what IsUpload accepts, and runs
// only a mutation selecting nothing but the photo mutations; any other
// operation is refused with 415 before a file is read. Every other
// multipart or form post goes to the JSON transport, which refuses it,
// since a browser may send those cross-site without a CORS preflight
// (CSRF): an Authorization header always needs one.
//
// The request's token is checked before any file is read: an invalid
// token, or an actor who may not manage vehicles, is refused at once.
// The map may name at most MaxUploadFiles files, each filling at most
// MaxUploadTargets variables, on paths checked to lead to a null in a
// variable the operation declares. Files are streamed to temporary files
// in TempDir, never held in memory, and removed when the request ends. A
// body larger than MaxBodyBytes, or a file larger than MaxFileBytes, is
// refused with 413.
type UploadTransport struct {
	// MaxFileBytes is the largest file accepted (MAX_UPLOAD_BYTES).
	MaxFileBytes int64
	// TempDir is where files wait while the operation runs, created when
	// first needed; "" is the system's temporary directory.
	TempDir string
	// Hooks tell the HTTP layer what each upload ran, as for other requests.
	Hooks RequestHooks
}

var _ graphql.Transport = UploadTransport{}

// IsUpload reports whether r is a multipart upload request that
// UploadTransport may take: a POST of multipart/form-data with a bearer
// token. Only such requests may have bodies of upload size.
func IsUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	contentType := r.Header.Get("Content-Type")
	// Most requests are JSON: tell them apart without parsing (which
	// allocates) on every request.
	if len(contentType) < len("multipart/") || !strings.EqualFold(contentType[:len("multipart/")], "multipart/") {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// MaxBodyBytes is the largest request body the transport reads: one
// file's worth plus UploadAllowance.
func (t UploadTransport) MaxBodyBytes() int64 { return t.MaxFileBytes + UploadAllowance }

// Supports takes the requests IsUpload accepts.
func (t UploadTransport) Supports(r *http.Request) bool { return IsUpload(r) }

// Do answers one upload request.
func (t UploadTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	// Answers are written, and the HTTP layer told about them, as for
	// any other request.
	answer := httpTransport{hooks: t.Hooks}
	media := responseMediaType(r.Header.Get("Accept"))
	// Before a byte of the body is read: who is asking may upload at all.
	// The authentication middleware put the token's actor, or its error,
	// in the context.
	if err := mayUpload(r.Context()); err != nil {
		w.Header().Set("Connection", "close") // the body stays unread
		answer.writeRequestError(w, r, media, &requestError{http.StatusOK, err.Code, err.Message})
		return
	}
	if r.ContentLength > t.MaxBodyBytes() {
		w.Header().Set("Connection", "close")
		answer.writeRequestError(w, r, media, t.bodyTooLarge())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, t.MaxBodyBytes())
	var files []*os.File
	defer func() {
		for _, f := range files {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	params, fail := t.read(r, &files)
	if fail != nil {
		switch {
		case fail.status == http.StatusRequestEntityTooLarge:
			w.Header().Set("Connection", "close")
		case fail.code == errcode.ParseFailed && media == mediaJSON:
			fail.status = http.StatusUnprocessableEntity // as for JSON posts
		}
		answer.writeRequestError(w, r, media, fail)
		return
	}
	answer.execute(w, r, media, start, params, exec)
}

func badUpload(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, models.CodeBadUserInput, fmt.Sprintf(format, args...)}
}

func (t UploadTransport) bodyTooLarge() *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, models.CodeBadUserInput,
		fmt.Sprintf("the upload is larger than %d bytes (MAX_UPLOAD_BYTES) plus %d for the rest of the request", t.MaxFileBytes, UploadAllowance)}
}

// read decodes the multipart body: the operations, checked to be photo
// mutations before anything else is read, the map, and the files, each
// streamed to a temporary file appended to files.
func (t UploadTransport) read(r *http.Request, files *[]*os.File) (*graphql.RawParams, *requestError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badUpload("the request body is not multipart/form-data")
	}
	left := int64(UploadAllowance)
	small := func(name string) ([]byte, *requestError) {
		part, err := mr.NextPart()
		if err != nil {
			return nil, t.partError(err, "the %q part must come first", name)
		}
		if part.FormName() != name {
			return nil, badUpload("the %q part must come first", name)
		}
		data, err := io.ReadAll(io.LimitReader(part, left+1))
		if err != nil {
			return nil, t.partError(err, "the %q part could not be read", name)
		}
		if int64(len(data)) > left {
			return nil, t.bodyTooLarge()
		}
		left -= int64(len(data))
		return data, nil
	}

	operations, fail := small("operations")
	if fail != nil {
		return nil, fail
	}
	params, fail := decodeOperations(operations)
	if fail != nil {
		return nil, fail
	}
	op, fail := onlyPhotoMutations(params)
	if fail != nil {
		return nil, fail
	}
	mapping, fail := small("map")
	if fail != nil {
		return nil, fail
	}
	var paths map[string][]string
	if err := json.Unmarshal(mapping, &paths); err != nil || paths == nil {
		return nil, badUpload("the map part must be a JSON object of file keys to lists of variable paths")
	}
	if len(paths) > MaxUploadFiles {
		return nil, badUpload("the map names %d files; a request may carry at most %d", len(paths), MaxUploadFiles)
	}
	for key, targets := range paths {
		if len(targets) == 0 || len(targets) > MaxUploadTargets {
			return nil, badUpload("the map gives the file %q %d variable paths; each file fills 1 to %d", key, len(targets), MaxUploadTargets)
		}
	}

	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, t.partError(err, "the request body is not well-formed multipart")
		}
		key := part.FormName()
		targets, ok := paths[key]
		if !ok {
			return nil, badUpload("the part %q is not in the map", key)
		}
		delete(paths, key)
		f, fail := t.spool(part, files)
		if fail != nil {
			return nil, fail
		}
		info, err := f.Stat()
		if err != nil {
			return nil, &requestError{http.StatusInternalServerError, models.CodeInternal, "the upload could not be stored"}
		}
		for _, path := range targets {
			// Each variable reads the one open file from its start.
			up := graphql.Upload{
				File: io.NewSectionReader(f, 0, info.Size()), Filename: part.FileName(),
				Size: info.Size(), ContentType: part.Header.Get("Content-Type"),
			}
			if fail := setUpload(params, op, path, up); fail != nil {
				return nil, fail
			}
		}
	}
	for key := range paths {
		return nil, badUpload("the file %q named in the map was not sent", key)
	}
	return params, nil
}

// setUpload puts up where path ("variables.file", "variables.files.0")
// points, once it is sure the path leads to a null: in a variable that op
// declares, through objects and lists that are there, at list indexes in
// range. Anything else is bad input (gqlgen's RawParams.AddUpload panics
// on some such paths, and takes others silently).
func setUpload(p *graphql.RawParams, op *ast.OperationDefinition, path string, up graphql.Upload) *requestError {
	refuse := func(why string) *requestError {
		return badUpload("the map's path %q %s", path, why)
	}
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return refuse(`does not start with "variables." and a variable's name`)
	}
	if op.VariableDefinitions.ForName(parts[1]) == nil {
		return refuse("names no variable of the operation")
	}
	if p.Variables == nil {
		p.Variables = map[string]any{}
	}
	// set is how the value at the current step is replaced; value is it.
	var set func(any)
	var value any
	for i, part := range parts[1:] {
		switch container := value.(type) {
		case nil:
			if i > 0 {
				return refuse("goes past a null")
			}
			vars := p.Variables
			value, set = vars[part], func(v any) { vars[part] = v }
		case map[string]any:
			value, set = container[part], func(v any) { container[part] = v }
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(container) || strconv.Itoa(n) != part {
				return refuse("indexes past the list's end, or not with a number")
			}
			value, set = container[n], func(v any) { container[n] = v }
		default:
			return refuse("goes into a value that is neither an object nor a list")
		}
	}
	if value != nil {
		return refuse("leads to a value that is not null")
	}
	set(up)
	return nil
}

// UploadTempPattern is the name pattern of the transport's temporary
// files (os.CreateTemp's).
const UploadTempPattern = "carlot-upload-*"

// spool copies a file part to a temporary file, refusing one larger than
// MaxFileBytes, and returns it open at its start.
func (t UploadTransport) spool(part io.Reader, files *[]*os.File) (*os.File, *requestError) {
	if t.TempDir != "" {
		if err := os.MkdirAll(t.TempDir, 0o750); err != nil {
			return nil, &requestError{http.StatusInternalServerError, models.CodeInternal, "the upload could not be stored"}
		}
	}
	f, err := os.CreateTemp(t.TempDir, UploadTempPattern)
	if err != nil {
		return nil, &requestError{http.StatusInternalServerError, models.CodeInternal, "the upload could not be stored"}
	}
	*files = append(*files, f)
	n, err := io.Copy(f, io.LimitReader(part, t.MaxFileBytes+1))
	if err != nil {
		return nil, t.partError(err, "the file could not be read")
	}
	if n > t.MaxFileBytes {
		return nil, t.bodyTooLarge()
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, &requestError{http.StatusInternalServerError, models.CodeInternal, "the upload could not be stored"}
	}
	return f, nil
}

// partError is a refusal for a failed read: 413 past the body limit, else
// bad input saying what.
func (t UploadTransport) partError(err error, format string, args ...any) *requestError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return t.bodyTooLarge()
	}
	return badUpload(format, args...)
}

// decodeOperations decodes the operations part: one request object, with
// its query text (a multipart request cannot be a persisted query: the
// transport must see which fields it selects).
func decodeOperations(data []byte) (*graphql.RawParams, *requestError) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return nil, badUpload("batched requests are not supported: send one operation per request")
	}
	var fields struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
	}
	if err := json.Unmarshal(data, &fields); err != nil || len(data) == 0 || data[0] != '{' {
		return nil, badUpload("the operations part must be a JSON object")
	}
	p := &graphql.RawParams{}
	if fields.Query == nil || *fields.Query == "" {
		return nil, badUpload("the operations part has no query")
	}
	p.Query = *fields.Query
	if fields.OperationName != nil {
		p.OperationName = *fields.OperationName
	}
	if len(fields.Variables) > 0 && string(fields.Variables) != "null" {
		dec := json.NewDecoder(bytes.NewReader(fields.Variables))
		dec.UseNumber()
		if err := dec.Decode(&p.Variables); err != nil || p.Variables == nil {
			return nil, badUpload("variables must be a JSON object")
		}
	}
	return p, nil
}

// onlyPhotoMutations refuses any operation but a mutation whose selection
// is only photo mutation fields (and __typename), so that uploads can never
// carry another operation past the refusal of multipart posts.
func onlyPhotoMutations(p *graphql.RawParams) (*ast.OperationDefinition, *requestError) {
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil, &requestError{http.StatusBadRequest, models.Code(errcode.ParseFailed), err.Error()}
	}
	refuse := &requestError{http.StatusUnsupportedMediaType, models.CodeBadUserInput,
		"multipart requests are accepted only for the photo mutations (addVehiclePhoto, removeVehiclePhoto, reorderVehiclePhotos); send other operations as application/json"}
	var op *ast.OperationDefinition
	switch {
	case p.OperationName != "":
		op = doc.Operations.ForName(p.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Mutation || len(op.SelectionSet) == 0 {
		return nil, refuse
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !uploadMutations[f.Name] && f.Name != "__typename" {
			return nil, refuse
		}
	}
	return op, nil
}

// mayUpload refuses, as the rest of the API would, a request whose token
// is invalid (UNAUTHENTICATED) or whose actor may not manage vehicles
// (UNAUTHENTICATED without a token, FORBIDDEN for a viewer): every photo
// mutation needs STAFF or ADMIN.
func mayUpload(ctx context.Context) *models.Error {
	err := auth.ErrorFrom(ctx)
	if err == nil {
		err = models.CanManageSomeVehicles(models.ActorFrom(ctx))
	}
	if err == nil {
		return nil
	}
	var e *models.Error
	if !errors.As(err, &e) {
		e = &models.Error{Code: models.CodeUnauthenticated, Message: "the access token is invalid or expired"}
	}
	return e
}
