package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
)

// UploadFile is one file of a multipart upload request: the bytes, and the
// variable paths ("variables.file") the map part gives it.
type UploadFile struct {
	Paths       []string
	Filename    string
	ContentType string
	Data        []byte
}

// MultipartBody encodes a GraphQL multipart request (the GraphQL multipart
// request specification, as Apollo's and urql's upload clients send it):
// an operations part whose upload variables are null, a map part, then
// the files as parts "0", "1", …. It returns the body and its Content-Type.
func MultipartBody(query string, vars map[string]any, files ...UploadFile) ([]byte, string) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	operations, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	mapping := make(map[string][]string, len(files))
	for i, f := range files {
		mapping[strconv.Itoa(i)] = f.Paths
	}
	mapJSON, _ := json.Marshal(mapping)
	_ = w.WriteField("operations", string(operations))
	_ = w.WriteField("map", string(mapJSON))
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%d"; filename=%q`, i, f.Filename))
		if f.ContentType != "" {
			h.Set("Content-Type", f.ContentType)
		}
		part, err := w.CreatePart(h)
		if err != nil {
			panic(err)
		}
		_, _ = part.Write(f.Data)
	}
	_ = w.Close()
	return body.Bytes(), w.FormDataContentType()
}

// Upload posts a multipart request made by MultipartBody to /graphql with
// an Authorization header (none when empty) and header name/value pairs.
func (a *API) Upload(authorization, query string, vars map[string]any, files []UploadFile, headers ...string) Response {
	a.T.Helper()
	body, contentType := MultipartBody(query, vars, files...)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.Send(req)
}
