package graph_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/apitest/server"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

const (
	addPhotoMutation = `mutation($vehicleId: ID!, $file: Upload!, $alt: String, $v: Int) {
		addVehiclePhoto(vehicleId: $vehicleId, file: $file, alt: $alt, expectedVersion: $v) {
			id url thumbnailUrl width height contentType alt position } }`
	removePhotoMutation  = `mutation($id: ID!, $v: Int) { removeVehiclePhoto(id: $id, expectedVersion: $v) }`
	reorderPhotoMutation = `mutation($vehicleId: ID!, $ids: [ID!]!, $v: Int) {
		reorderVehiclePhotos(vehicleId: $vehicleId, photoIds: $ids, expectedVersion: $v) { id position } }`
	vehiclePhotosQuery = `query($id: ID!) { vehicle(id: $id) { version
		photos { id url thumbnailUrl width height contentType alt position }
		primaryPhoto { id position } } }`
)

type photo struct {
	ID, URL, ThumbnailURL, ContentType string
	Alt                                *string
	Width, Height, Position            int
}

// photoAPI is the production handler on a seeded database, storing photos
// in a directory of the test's own.
func photoAPI(t *testing.T, env map[string]string) (*api, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media")
	vars := map[string]string{"MEDIA_DIR": dir}
	for k, v := range env {
		vars[k] = v
	}
	return wrap(server.New(t, testdb.Seeded, vars)), dir
}

// pngOf draws a w×h PNG in c, with a stripe so that two colours differ.
func pngOf(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
			if y == h/2 {
				img.Set(x, y, color.Black)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegOf(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(pngOf(t, w, h, c)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name string, data []byte) []apitest.UploadFile {
	return []apitest.UploadFile{{Paths: []string{"variables.file"}, Filename: name, ContentType: "image/png", Data: data}}
}

// addPhoto uploads data to vehicle as auth and returns the photo.
func (a *api) addPhoto(auth, vehicle string, data []byte) photo {
	a.T.Helper()
	r := a.Upload(auth, addPhotoMutation, map[string]any{"vehicleId": vehicle, "file": nil}, file("car.png", data))
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		a.T.Fatalf("upload (%d): %s", r.Status, r.Raw)
	}
	var out struct{ AddVehiclePhoto photo }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		a.T.Fatal(err)
	}
	return out.AddVehiclePhoto
}

type vehiclePhotos struct {
	Version      int
	Photos       []photo
	PrimaryPhoto *photo
}

func (a *api) photosOf(vehicle string) vehiclePhotos {
	a.T.Helper()
	var out struct{ Vehicle vehiclePhotos }
	a.Query(&out, vehiclePhotosQuery, map[string]any{"id": vehicle})
	return out.Vehicle
}

func (a *api) updatedEvents(vehicle string) int {
	a.T.Helper()
	var n int
	a.SQL(&n, "SELECT count(*) FROM vehicle_events WHERE vehicle_id = ? AND kind = 'UPDATED'", mustDBID(a.T.(*testing.T), vehicle))
	return n
}

// stored reports whether the file a photo URL names is in dir.
func stored(t *testing.T, dir, url string) bool {
	t.Helper()
	name, ok := strings.CutPrefix(url, "/media/")
	if !ok || len(name) < 2 {
		t.Fatalf("url %q is not under /media/", url)
	}
	_, err := os.Stat(filepath.Join(dir, name[:2], name))
	return err == nil
}

// storedFiles counts the files in dir.
func storedFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// An upload through the multipart protocol stores a clean image and its
// thumbnail, served under /media/, appends the photo after the others,
// bumps the vehicle's version with one UPDATED event, and reads back in
// order, with the first as the primary photo and node(id:) finding it.
func TestAddVehiclePhoto(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, version := a.vehicleOf(p.dealerA)
	events := a.updatedEvents(vehicle)

	r := a.Upload(staff, addPhotoMutation, map[string]any{"vehicleId": vehicle, "file": nil, "alt": "Front, three quarters", "v": version},
		file("front.png", pngOf(t, 800, 600, color.RGBA{200, 30, 30, 255})))
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("upload (%d): %s", r.Status, r.Raw)
	}
	var out struct{ AddVehiclePhoto photo }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	first := out.AddVehiclePhoto
	if first.Width != 800 || first.Height != 600 || first.ContentType != "image/png" || first.Position != 0 ||
		first.Alt == nil || *first.Alt != "Front, three quarters" || first.URL == first.ThumbnailURL {
		t.Fatalf("photo: %+v", first)
	}
	if !stored(t, dir, first.URL) || !stored(t, dir, first.ThumbnailURL) {
		t.Fatalf("files of %+v are not stored in %s", first, dir)
	}
	for _, url := range []string{first.URL, first.ThumbnailURL} {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("GET %s: %d %s", url, rec.Code, rec.Header().Get("Content-Type"))
		}
		if url == first.ThumbnailURL {
			cfg, err := png.DecodeConfig(rec.Body)
			if err != nil || cfg.Width != 400 || cfg.Height != 300 {
				t.Fatalf("thumbnail: %+v %v", cfg, err)
			}
		}
	}
	second := a.addPhoto(staff, vehicle, jpegOf(t, 640, 480, color.RGBA{20, 30, 200, 255}))
	if second.Position != 1 || second.ContentType != "image/jpeg" || second.Alt != nil {
		t.Fatalf("second photo: %+v", second)
	}

	got := a.photosOf(vehicle)
	if got.Version != version+2 || len(got.Photos) != 2 || got.Photos[0].ID != first.ID || got.Photos[1].ID != second.ID ||
		got.PrimaryPhoto == nil || got.PrimaryPhoto.ID != first.ID {
		t.Fatalf("vehicle after two uploads (from version %d): %+v", version, got)
	}
	if n := a.updatedEvents(vehicle); n != events+2 {
		t.Fatalf("%d UPDATED events, want %d", n, events+2)
	}

	var node struct {
		Node struct {
			Typename string `json:"__typename"`
			ID, URL  string
			Position int
		}
	}
	a.Query(&node, `query($id: ID!) { node(id: $id) { __typename id ... on VehiclePhoto { url position } } }`, map[string]any{"id": second.ID})
	if node.Node.Typename != "VehiclePhoto" || node.Node.ID != second.ID || node.Node.URL != second.URL || node.Node.Position != 1 {
		t.Fatalf("node: %+v", node.Node)
	}
	var none struct{ Vehicle vehiclePhotos }
	other, _ := a.vehicleOf(p.dealerB)
	a.Query(&none, vehiclePhotosQuery, map[string]any{"id": other})
	if none.Vehicle.Photos == nil || len(none.Vehicle.Photos) != 0 || none.Vehicle.PrimaryPhoto != nil {
		t.Fatalf("a vehicle without photos: %+v", none.Vehicle)
	}
}

// Every refused upload says why with the right code, and changes nothing:
// no row, no version, no event, no file.
func TestAddVehiclePhotoRefusals(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, map[string]string{"MAX_IMAGE_SIDE": "1000"})
	p := a.accounts()
	staff, other, viewer := a.login(p.staffA), a.login(p.staffB), a.login(p.viewer)
	vehicle, version := a.vehicleOf(p.dealerA)
	full, _ := a.vehicleOf(p.dealerB)
	// A vehicle at the limit of photos.
	a.SQL(new(int), `INSERT INTO vehicle_photos (vehicle_id, position, image_name, thumbnail_name, width, height, content_type)
		SELECT ?, g, repeat('a', 64) || '.png', repeat('b', 64) || '.png', 10, 10, 'image/png' FROM generate_series(0, 39) g RETURNING 1`,
		mustDBID(t, full))
	admin := a.login(p.admin)
	good := pngOf(t, 40, 30, color.White)

	for _, tc := range []struct {
		name  string
		auth  string
		vars  map[string]any
		data  []byte
		code  string
		field string
	}{
		{"text named .png is not an image", staff, nil, []byte("just some text, not a picture"), "BAD_USER_INPUT", "file"},
		{"damaged image", staff, nil, pngOf(t, 40, 30, color.White)[:60], "BAD_USER_INPUT", "file"},
		{"image too wide", staff, nil, pngOf(t, 1001, 2, color.White), "BAD_USER_INPUT", "file"},
		{"alt too long", staff, map[string]any{"alt": strings.Repeat("x", 501)}, good, "BAD_USER_INPUT", "alt"},
		{"alt with a NUL", staff, map[string]any{"alt": "\u0000"}, good, "BAD_USER_INPUT", "alt"},
		{"alt with a control character", staff, map[string]any{"alt": "front\u001b[31m"}, good, "BAD_USER_INPUT", "alt"},
		{"malformed vehicle id", staff, map[string]any{"vehicleId": "nope"}, good, "BAD_USER_INPUT", "vehicleId"},
		{"no such vehicle", staff, map[string]any{"vehicleId": relay.NodeID("Vehicle", 1<<40)}, good, "NOT_FOUND", ""},
		{"staff of another dealer", other, nil, good, "FORBIDDEN", ""},
		{"viewer", viewer, nil, good, "FORBIDDEN", ""},
		{"stale expectedVersion", staff, map[string]any{"v": version - 1}, good, "CONFLICT", ""},
		{"41st photo", admin, map[string]any{"vehicleId": full}, good, "BAD_USER_INPUT", "vehicleId"},
		// What can be checked without the file is, before it is decoded.
		{"damaged image for no such vehicle", staff, map[string]any{"vehicleId": relay.NodeID("Vehicle", 1<<40)}, []byte("not an image"), "NOT_FOUND", ""},
		{"damaged image from another dealer's staff", other, nil, []byte("not an image"), "FORBIDDEN", ""},
		{"damaged image at a stale version", staff, map[string]any{"v": version - 1}, []byte("not an image"), "CONFLICT", ""},
		{"damaged image as the 41st photo", admin, map[string]any{"vehicleId": full}, []byte("not an image"), "BAD_USER_INPUT", "vehicleId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, files := a.state(), storedFiles(t, dir)
			vars := map[string]any{"vehicleId": vehicle, "file": nil}
			for k, v := range tc.vars {
				vars[k] = v
			}
			r := a.Upload(tc.auth, addPhotoMutation, vars, file("car.png", tc.data))
			if r.Status != http.StatusOK || r.Code() != tc.code {
				t.Fatalf("want %s, got (%d) %s", tc.code, r.Status, r.Raw)
			}
			if tc.field != "" && !strings.Contains(string(r.Raw), `"field":"`+tc.field+`"`) {
				t.Fatalf("want a problem with %s: %s", tc.field, r.Raw)
			}
			apitest.MustNotLeak(t, string(r.Raw))
			if after := a.state(); after != before {
				t.Fatalf("state changed: %+v → %+v", before, after)
			}
			if n := storedFiles(t, dir); n != files {
				t.Fatalf("%d files stored, want %d", n, files)
			}
		})
	}
	if got := a.photosOf(vehicle); len(got.Photos) != 0 || got.Version != version {
		t.Fatalf("after refusals: %+v", got)
	}
}

// Multipart is accepted only with a bearer token and only for the photo
// mutations: every other operation keeps being refused (415) as any
// multipart post is, and nothing runs.
func TestMultipartOnlyForPhotoMutations(t *testing.T) {
	t.Parallel()
	a, _ := photoAPI(t, nil)
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, _ := a.vehicleOf(p.dealerA)
	data := pngOf(t, 20, 20, color.White)
	for _, tc := range []struct {
		name, auth, query string
	}{
		{"photo mutation without a token", "", addPhotoMutation},
		{"photo mutation with a basic token", "Basic YTpi", addPhotoMutation},
		{"query", staff, `query { __typename }`},
		{"another mutation", staff, `mutation($vehicleId: ID!) { deleteVehicle(id: $vehicleId) }`},
		{"photo mutation beside another", staff, `mutation($vehicleId: ID!, $file: Upload!) {
			addVehiclePhoto(vehicleId: $vehicleId, file: $file) { id } deleteVehicle(id: $vehicleId) }`},
		{"through a fragment", staff, `mutation($vehicleId: ID!) { ...F } fragment F on Mutation { deleteVehicle(id: $vehicleId) }`},
		{"subscription", staff, `subscription { vehicleEvents { sequence } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state()
			r := a.Upload(tc.auth, tc.query, map[string]any{"vehicleId": vehicle, "file": nil}, file("car.png", data))
			if r.Status != http.StatusUnsupportedMediaType || r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("want 415 BAD_USER_INPUT, got (%d) %s", r.Status, r.Raw)
			}
			if after := a.state(); after != before {
				t.Fatalf("state changed: %+v → %+v", before, after)
			}
		})
	}
	// Malformed requests are bad input, not server errors.
	for _, tc := range []struct{ name, body string }{
		{"map before operations", "--x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--x--\r\n"},
		{"batch", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n[]\r\n--x--\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.PostRaw("multipart/form-data; boundary=x", tc.body, "Authorization", staff)
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("want 400 BAD_USER_INPUT, got (%d) %s", r.Status, r.Raw)
			}
		})
	}
	// Without its file, the non-null variable stays null.
	r := a.Upload(staff, addPhotoMutation, map[string]any{"vehicleId": vehicle, "file": nil}, nil)
	if r.Status != http.StatusUnprocessableEntity || r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("upload without its file: (%d) %s", r.Status, r.Raw)
	}
	body := "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" +
		`{"query":"mutation($f: Upload!) { addVehiclePhoto(vehicleId: \"x\", file: $f) { id } }","variables":{"f":null}}` +
		"\r\n--x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n" + `{"0":["variables.f"]}` + "\r\n--x--\r\n"
	if r := a.PostRaw("multipart/form-data; boundary=x", body, "Authorization", staff); r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("a file in the map but not sent: (%d) %s", r.Status, r.Raw)
	}
}

// A file past MAX_UPLOAD_BYTES is refused with 413, whether the length is
// declared or the body streams; only multipart uploads with a token may
// send bodies larger than MAX_BODY_BYTES.
func TestUploadTooLarge(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, map[string]string{"MAX_UPLOAD_BYTES": "200000", "MAX_BODY_BYTES": "100000"})
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, _ := a.vehicleOf(p.dealerA)
	vars := map[string]any{"vehicleId": vehicle, "file": nil}
	big := make([]byte, 300_000)
	copy(big, pngOf(t, 10, 10, color.White))

	body, contentType := apitest.MultipartBody(addPhotoMutation, vars, file("big.png", big)...)
	for _, streamed := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", staff)
		if streamed {
			req.ContentLength = -1
		}
		r := a.Send(req)
		if r.Status != http.StatusRequestEntityTooLarge || r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("streamed %v: want 413, got (%d) %s", streamed, r.Status, r.Raw)
		}
	}
	// More than MAX_BODY_BYTES, within MAX_UPLOAD_BYTES.
	noisy := noisyPNG(t, 200, 200)
	if len(noisy) <= 100_000 || len(noisy) > 200_000 {
		t.Fatalf("test image of %d bytes", len(noisy))
	}
	if ph := a.addPhoto(staff, vehicle, noisy); !stored(t, dir, ph.URL) {
		t.Fatal("the upload was not stored")
	}
	// The same body without a token is an ordinary post: MAX_BODY_BYTES holds.
	body, contentType = apitest.MultipartBody(addPhotoMutation, vars, file("noisy.png", noisy)...)
	r := a.PostRaw(contentType, string(body))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("without a token: want 413, got (%d) %s", r.Status, r.Raw)
	}
}

// noisyPNG is a w×h PNG that compresses badly.
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Reordering must name each photo once; removing closes the gap. Both bump
// the version with an UPDATED event; a removed photo's files go unless
// another photo (of any vehicle) still shows the same bytes.
func TestReorderAndRemovePhotos(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	staff, admin := a.login(p.staffA), a.login(p.admin)
	vehicle, _ := a.vehicleOf(p.dealerA)
	other, _ := a.vehicleOf(p.dealerB)
	red, green, blue := pngOf(t, 50, 40, color.RGBA{255, 0, 0, 255}), pngOf(t, 50, 40, color.RGBA{0, 255, 0, 255}), pngOf(t, 50, 40, color.RGBA{0, 0, 255, 255})
	r0, g1, b2 := a.addPhoto(staff, vehicle, red), a.addPhoto(staff, vehicle, green), a.addPhoto(staff, vehicle, blue)
	shared := a.addPhoto(admin, other, green) // the same bytes as g1: the same files
	if shared.URL != g1.URL {
		t.Fatalf("identical uploads have different files: %s, %s", shared.URL, g1.URL)
	}

	start := a.photosOf(vehicle)
	events := a.updatedEvents(vehicle)
	for _, tc := range []struct {
		name string
		ids  []string
		code string
	}{
		{"one missing", []string{b2.ID, r0.ID}, "BAD_USER_INPUT"},
		{"one twice", []string{b2.ID, r0.ID, r0.ID}, "BAD_USER_INPUT"},
		{"another vehicle's", []string{b2.ID, r0.ID, g1.ID, shared.ID}, "BAD_USER_INPUT"},
		{"not a photo id", []string{b2.ID, r0.ID, vehicle}, "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.PostAs(staff, reorderPhotoMutation, map[string]any{"vehicleId": vehicle, "ids": tc.ids})
			if r.Code() != tc.code || !strings.Contains(string(r.Raw), `"field":"photoIds"`) {
				t.Fatalf("want %s on photoIds: %s", tc.code, r.Raw)
			}
		})
	}
	if r := a.PostAs(staff, reorderPhotoMutation, map[string]any{"vehicleId": vehicle, "ids": []string{b2.ID, r0.ID, g1.ID}, "v": start.Version - 1}); r.Code() != "CONFLICT" {
		t.Fatalf("stale reorder: %s", r.Raw)
	}
	var reordered struct{ ReorderVehiclePhotos []photo }
	a.QueryAs(staff, &reordered, reorderPhotoMutation, map[string]any{"vehicleId": vehicle, "ids": []string{b2.ID, r0.ID, g1.ID}, "v": start.Version})
	if got := reordered.ReorderVehiclePhotos; len(got) != 3 || got[0].ID != b2.ID || got[1].ID != r0.ID || got[2].ID != g1.ID || got[2].Position != 2 {
		t.Fatalf("reordered: %+v", got)
	}
	after := a.photosOf(vehicle)
	if after.Version != start.Version+1 || after.PrimaryPhoto.ID != b2.ID || a.updatedEvents(vehicle) != events+1 {
		t.Fatalf("after reorder: %+v", after)
	}

	// Remove the middle one (red): blue, green remain, at 0 and 1.
	if r := a.PostAs(staff, removePhotoMutation, map[string]any{"id": r0.ID, "v": start.Version}); r.Code() != "CONFLICT" {
		t.Fatalf("stale remove: %s", r.Raw)
	}
	if r := a.PostAs(a.login(p.staffB), removePhotoMutation, map[string]any{"id": r0.ID}); r.Code() != "FORBIDDEN" {
		t.Fatalf("remove by another dealer's staff: %s", r.Raw)
	}
	var removed struct{ RemoveVehiclePhoto string }
	a.QueryAs(staff, &removed, removePhotoMutation, map[string]any{"id": r0.ID, "v": after.Version})
	if removed.RemoveVehiclePhoto != r0.ID {
		t.Fatalf("removed %q, want %q", removed.RemoveVehiclePhoto, r0.ID)
	}
	left := a.photosOf(vehicle)
	if len(left.Photos) != 2 || left.Photos[0].ID != b2.ID || left.Photos[1].ID != g1.ID || left.Photos[1].Position != 1 ||
		left.Version != after.Version+1 || a.updatedEvents(vehicle) != events+2 {
		t.Fatalf("after remove: %+v", left)
	}
	if stored(t, dir, r0.URL) || stored(t, dir, r0.ThumbnailURL) {
		t.Fatal("the removed photo's files are still stored")
	}
	if r := a.PostAs(staff, removePhotoMutation, map[string]any{"id": r0.ID}); r.Code() != "NOT_FOUND" {
		t.Fatalf("remove twice: %s", r.Raw)
	}

	// Green is shown by two photos: removing one keeps the files.
	a.QueryAs(staff, &removed, removePhotoMutation, map[string]any{"id": g1.ID})
	if !stored(t, dir, g1.URL) || !stored(t, dir, g1.ThumbnailURL) {
		t.Fatal("a file another photo shows was deleted")
	}
	a.QueryAs(admin, &removed, removePhotoMutation, map[string]any{"id": shared.ID})
	if stored(t, dir, g1.URL) || stored(t, dir, g1.ThumbnailURL) {
		t.Fatal("the files of the last photo showing them were kept")
	}
}

// Deleting a vehicle deletes its photos' files, except those another
// vehicle's photo still shows.
func TestDeleteVehicleReleasesPhotoFiles(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	admin := a.login(p.admin)
	vehicle, _ := a.vehicleOf(p.dealerA)
	other, _ := a.vehicleOf(p.dealerB)
	own := a.addPhoto(admin, vehicle, pngOf(t, 30, 30, color.RGBA{9, 9, 9, 255}))
	shared := a.addPhoto(admin, vehicle, pngOf(t, 30, 30, color.RGBA{7, 7, 7, 255}))
	a.addPhoto(admin, other, pngOf(t, 30, 30, color.RGBA{7, 7, 7, 255}))

	a.QueryAs(admin, new(struct{ DeleteVehicle string }), deleteMutation, map[string]any{"id": vehicle})
	if stored(t, dir, own.URL) || stored(t, dir, own.ThumbnailURL) {
		t.Fatal("the deleted vehicle's own photo files are still stored")
	}
	if !stored(t, dir, shared.URL) || !stored(t, dir, shared.ThumbnailURL) {
		t.Fatal("files another vehicle's photo shows were deleted")
	}
	var n int
	a.SQL(&n, "SELECT count(*) FROM vehicle_photos WHERE vehicle_id = ?", mustDBID(t, vehicle))
	if n != 0 {
		t.Fatalf("%d photo rows left", n)
	}
}

// The photos (and primary photos) of a page of vehicles cost one
// statement, whatever the page's size; a lookup's cost one.
func TestPhotosOfAPageInOneStatement(t *testing.T) {
	t.Parallel()
	a, _ := photoAPI(t, nil)
	p := a.accounts()
	admin := a.login(p.admin)
	var ids []int64
	a.SQL(&ids, "SELECT id FROM vehicles WHERE dealer_id = ? ORDER BY id LIMIT 3", p.dealerA)
	for i, id := range ids {
		for j := 0; j <= i; j++ {
			a.addPhoto(admin, relay.NodeID("Vehicle", id), pngOf(t, 20+j, 20, color.RGBA{byte(i), byte(j), 0, 255}))
		}
	}
	dealer := relay.NodeID("Dealer", p.dealerA)
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		want  int64
	}{
		{"page of 5", `query($d: ID!) { vehicles(first: 5, filter: {dealerId: $d}) { nodes { vin photos { url position } primaryPhoto { thumbnailUrl } } } }`, map[string]any{"d": dealer}, 2},
		{"page of 50", `{ vehicles(first: 50) { nodes { photos { url } primaryPhoto { url } } } }`, nil, 2},
		{"dealers' vehicles", `{ dealers(first: 10) { nodes { vehicles(first: 5) { nodes { photos { id } primaryPhoto { id } } } } } }`, nil, 3},
		{"lookup", `query($id: ID!) { vehicle(id: $id) { photos { id } primaryPhoto { id } } }`, map[string]any{"id": relay.NodeID("Vehicle", ids[2])}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var data json.RawMessage
			got := a.CountStatements(func() {
				r := a.Post(tc.query, tc.vars)
				if len(r.Errors) > 0 {
					t.Fatalf("%s", r.Raw)
				}
				data = r.Data
			})
			if got != tc.want {
				t.Fatalf("%d statements, want %d", got, tc.want)
			}
			if tc.name == "page of 5" {
				var out struct {
					Vehicles struct{ Nodes []vehiclePhotos }
				}
				_ = json.Unmarshal(data, &out)
				for i, v := range out.Vehicles.Nodes[:3] {
					if len(v.Photos) != i+1 || v.PrimaryPhoto == nil {
						t.Fatalf("vehicle %d: %+v", i, v)
					}
				}
			}
		})
	}
}

// Uploads are counted by operation and outcome like every other request.
func TestUploadsAreCountedByOperation(t *testing.T) {
	t.Parallel()
	a, _ := photoAPI(t, nil)
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, _ := a.vehicleOf(p.dealerA)
	named := strings.Replace(addPhotoMutation, "mutation(", "mutation AddPhoto(", 1)
	if r := a.Upload(staff, named, map[string]any{"vehicleId": vehicle, "file": nil}, file("car.png", pngOf(t, 64, 48, color.White))); len(r.Errors) > 0 {
		t.Fatalf("upload: %s", r.Raw)
	}
	if r := a.Upload(staff, named, map[string]any{"vehicleId": vehicle, "file": nil}, file("car.png", []byte("not an image"))); len(r.Errors) == 0 {
		t.Fatalf("a text file was accepted: %s", r.Raw)
	}
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`carlot_graphql_requests_total{operation="AddPhoto",outcome="ok"} 1`,
		`carlot_graphql_requests_total{operation="AddPhoto",outcome="BAD_USER_INPUT"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
