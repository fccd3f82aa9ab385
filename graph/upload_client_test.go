package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uploadClientDir holds the Node project that uploads a photo with urql
// (install it with `npm ci --prefix tests/upload`).
const uploadClientDir = "../tests/upload"

// A real JavaScript upload client (urql, which sends files as GraphQL
// multipart requests) adds a photo to a vehicle on a running server.
// Without Node or its modules the test skips, and fails in CI (CI=true),
// where .ci/run installs them.
func TestUploadWithURQL(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(uploadClientDir, "node_modules", "@urql", "core"))
	if err != nil || modErr != nil {
		msg := "the upload client needs Node.js and `npm ci --prefix tests/upload`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	token := strings.TrimPrefix(a.login(p.staffA), "Bearer ")
	vehicle, version := a.vehicleOf(p.dealerA)
	photoFile := filepath.Join(t.TempDir(), "front.jpg")
	if err := os.WriteFile(photoFile, jpegOf(t, 1200, 800, color.RGBA{30, 120, 60, 255}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(uploadClientDir, "upload.mjs"), srv.URL+"/graphql", vehicle, photoFile)
	cmd.Env = append(os.Environ(), "CARLOT_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("upload client: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var out struct{ AddVehiclePhoto photo }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("client output %q: %v", stdout.String(), err)
	}
	ph := out.AddVehiclePhoto
	if ph.Width != 1200 || ph.Height != 800 || ph.ContentType != "image/jpeg" || ph.Position != 0 ||
		ph.Alt == nil || *ph.Alt != "Uploaded from front.jpg" || !stored(t, dir, ph.URL) || !stored(t, dir, ph.ThumbnailURL) {
		t.Fatalf("uploaded photo: %+v", ph)
	}
	if got := a.photosOf(vehicle); got.Version != version+1 || len(got.Photos) != 1 || got.Photos[0].ID != ph.ID {
		t.Fatalf("vehicle after the upload: %+v", got)
	}
}
