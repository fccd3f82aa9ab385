package seed_test

import (
	"context"
	"image"
	_ "image/png" // the demo photos are PNGs
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
)

// The first demo vehicles get two generated photos each, in their paint,
// stored in the media store; vehicles of one colour share files, and a
// repeat run adds no photo and no file.
func TestDemoPhotos(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	dir := t.TempDir()
	store := media.NewFileStore(dir)
	res := run(t, db, seed.Options{Vehicles: 30, Password: testPassword, Media: store})
	if res.Photos != 2*seed.PhotoVehicles {
		t.Fatalf("%d photos, want %d", res.Photos, 2*seed.PhotoVehicles)
	}
	var rows []struct {
		VIN       string `bun:"vin"`
		Position  int    `bun:"position"`
		ImageName string `bun:"image_name"`
		Thumbnail string `bun:"thumbnail_name"`
		Width     int    `bun:"width"`
		Alt       string `bun:"alt"`
	}
	if err := db.NewRaw(`SELECT v.vin, vp.position, vp.image_name, vp.thumbnail_name, vp.width, vp.alt
		FROM vehicle_photos vp JOIN vehicles v ON v.id = vp.vehicle_id ORDER BY v.id, vp.position`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for i, r := range rows {
		if r.VIN != seed.VIN(i/2) || r.Position != i%2 || r.Width != 800 || r.Alt == "" {
			t.Fatalf("photo %d: %+v", i, r)
		}
		for _, name := range []string{r.ImageName, r.Thumbnail} {
			f, err := store.Open(ctx, name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, _, err := image.Decode(f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f.Close()
			files[name] = true
		}
	}
	if len(files) >= 4*seed.PhotoVehicles {
		t.Fatalf("%d files for %d photos: identical photos do not share files", len(files), len(rows))
	}
	before := countFiles(t, dir)
	if res := run(t, db, seed.Options{Vehicles: 30, Password: testPassword, Media: store}); res != (seed.Result{}) {
		t.Fatalf("second run added %+v", res)
	}
	if after := countFiles(t, dir); after != before {
		t.Fatalf("second run left %d files, want %d", after, before)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	if err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// lockWatcher is a media store that, whenever a file is put, asks the
// database from a connection of its own whether that file's lock (the one
// models.LockFiles takes) is free, which it must not be: the seed holds it
// until its photos are committed.
type lockWatcher struct {
	media.Store
	db       *bun.DB
	mu       sync.Mutex
	puts     int
	unlocked []string
}

func (w *lockWatcher) Put(ctx context.Context, r io.Reader, contentType string) (string, error) {
	name, err := w.Store.Put(ctx, r, contentType)
	if err != nil {
		return name, err
	}
	var free bool
	err = w.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT pg_try_advisory_xact_lock('vehicle_photos'::regclass::oid::int, hashtext(?))`,
			media.Hash(name)).Scan(ctx, &free)
	})
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.puts++
	if free {
		w.unlocked = append(w.unlocked, name)
	}
	return name, nil
}

// The seed stores the demo photos' files under the locks the API takes,
// so a photo removal racing it cannot delete a file it is about to refer
// to.
func TestDemoPhotosAreStoredUnderTheFilesLocks(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	w := &lockWatcher{Store: media.NewFileStore(t.TempDir()), db: db}
	if res := run(t, db, seed.Options{Vehicles: 30, Password: testPassword, Media: w}); res.Photos == 0 {
		t.Fatal("no photos seeded")
	}
	if w.puts == 0 || len(w.unlocked) > 0 {
		t.Fatalf("of %d files stored, %d were not locked: %v", w.puts, len(w.unlocked), w.unlocked)
	}
}
