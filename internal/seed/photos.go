package seed

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// PhotoVehicles is how many of the first demo vehicles get photos.
const PhotoVehicles = 20

// The demo photos' size.
const photoWidth, photoHeight = 800, 450

// paints are the palette's colours as pixels; an unknown colour is grey.
var paints = map[string]color.RGBA{
	"White": {236, 238, 240, 255}, "Black": {28, 30, 34, 255}, "Gray": {110, 114, 120, 255},
	"Silver": {184, 188, 194, 255}, "Blue": {36, 86, 170, 255}, "Red": {178, 34, 40, 255},
	"Green": {40, 110, 64, 255}, "Brown": {104, 70, 44, 255}, "Beige": {214, 196, 160, 255},
	"Burgundy": {112, 24, 44, 255}, "Orange": {226, 112, 30, 255}, "Yellow": {236, 196, 40, 255},
}

// photoScenes are the demo photos of each vehicle, in order.
var photoScenes = []struct {
	name      string
	sky, road color.RGBA
}{
	{"by day", color.RGBA{150, 196, 232, 255}, color.RGBA{120, 124, 128, 255}},
	{"at dusk", color.RGBA{236, 150, 110, 255}, color.RGBA{70, 66, 72, 255}},
}

// seedPhotos gives each of the first PhotoVehicles demo vehicles that
// exists and has no photo two generated photos, side views of a car in its
// paint, stored in store. A photo depends only on the paint and the scene,
// so vehicles of one colour share their files and a repeat run stores
// nothing new. As for every photo, the files are stored under their locks
// (models.LockFiles, all taken at once, in the order every locker takes
// them), held until the rows that refer to them are committed: a removal
// of another photo with the same content cannot delete them in between.
func seedPhotos(ctx context.Context, tx bun.Tx, store media.Store) (int, error) {
	vins := make([]string, PhotoVehicles)
	for i := range vins {
		vins[i] = VIN(i)
	}
	var vehicles []struct {
		ID    int64
		Year  int
		Color *string
		Make  string
		Model string
	}
	if err := tx.NewRaw(`SELECT v.id, v.year, v.color, mk.name AS make, md.name AS model
		FROM vehicles v JOIN models md ON md.id = v.model_id JOIN makes mk ON mk.id = md.make_id
		WHERE v.vin = ANY(?) AND NOT EXISTS (SELECT FROM vehicle_photos vp WHERE vp.vehicle_id = v.id)
		ORDER BY v.id`, pgdialect.Array(vins)).Scan(ctx, &vehicles); err != nil {
		return 0, fmt.Errorf("find vehicles without photos: %w", err)
	}
	paintOf := func(c *string) string {
		if c == nil {
			return "Gray"
		}
		return *c
	}
	// Every distinct photo, drawn and processed, before any is stored.
	processed := make(map[string]*media.Processed)
	var hashes []string
	for _, v := range vehicles {
		paint := paintOf(v.Color)
		for _, scene := range photoScenes {
			key := paint + "/" + scene.name
			if processed[key] != nil {
				continue
			}
			data, err := drawCar(paints[paint], scene.sky, scene.road)
			if err != nil {
				return 0, err
			}
			p, err := media.Process(bytes.NewReader(data), media.Limits{})
			if err != nil {
				return 0, fmt.Errorf("process a demo photo: %w", err)
			}
			processed[key] = p
			hashes = append(hashes, p.Hashes()...)
		}
	}
	if err := models.LockFiles(ctx, tx, hashes); err != nil {
		return 0, fmt.Errorf("lock the demo photos' files: %w", err)
	}
	stored := make(map[string]media.Photo)
	added := 0
	for _, v := range vehicles {
		paint := paintOf(v.Color)
		for pos, scene := range photoScenes {
			key := paint + "/" + scene.name
			ph, ok := stored[key]
			if !ok {
				var err error
				if ph, err = processed[key].Put(ctx, store); err != nil {
					return 0, fmt.Errorf("store a demo photo: %w", err)
				}
				stored[key] = ph
			}
			alt := fmt.Sprintf("%d %s %s in %s, side view %s", v.Year, v.Make, v.Model, strings.ToLower(paint), scene.name)
			if _, err := tx.ExecContext(ctx, `INSERT INTO vehicle_photos
				(vehicle_id, position, image_name, thumbnail_name, width, height, content_type, alt)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				v.ID, pos, ph.Name, ph.ThumbnailName, ph.Width, ph.Height, ph.ContentType, alt); err != nil {
				return 0, fmt.Errorf("insert a demo photo: %w", err)
			}
			added++
		}
	}
	return added, nil
}

// drawCar draws a car's side view in paint, under sky on road, as a PNG.
func drawCar(paint, sky, road color.RGBA) ([]byte, error) {
	if paint.A == 0 {
		paint = paints["Gray"]
	}
	img := image.NewRGBA(image.Rect(0, 0, photoWidth, photoHeight))
	fill := func(r image.Rectangle, c color.RGBA) {
		draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
	}
	fill(img.Bounds(), sky)
	fill(image.Rect(0, 330, photoWidth, photoHeight), road)
	// The cabin narrows upwards; its windows are a darker glass.
	glass := color.RGBA{60, 80, 100, 255}
	for y := 160; y < 230; y++ {
		inset := (230 - y) * 3 / 4
		fill(image.Rect(250+inset, y, 560-inset/2, y+1), paint)
		if y > 172 {
			fill(image.Rect(262+inset, y, 400, y+1), glass)
			fill(image.Rect(410, y, 548-inset/2, y+1), glass)
		}
	}
	fill(image.Rect(130, 230, 690, 320), paint)                          // body
	fill(image.Rect(130, 300, 690, 306), shade(paint, 3, 4))             // sill line
	fill(image.Rect(670, 245, 690, 262), color.RGBA{250, 230, 150, 255}) // headlight
	fill(image.Rect(130, 245, 142, 262), color.RGBA{200, 30, 30, 255})   // tail light
	for _, cx := range []int{250, 570} {
		disc(img, cx, 320, 48, color.RGBA{24, 24, 24, 255})
		disc(img, cx, 320, 22, color.RGBA{170, 172, 176, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("draw a demo photo: %w", err)
	}
	return buf.Bytes(), nil
}

// disc fills a circle of radius r around (cx, cy).
func disc(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				img.SetRGBA(cx+x, cy+y, c)
			}
		}
	}
}

// shade darkens c to num/den of its brightness.
func shade(c color.RGBA, num, den int) color.RGBA {
	f := func(v uint8) uint8 { return uint8(int(v) * num / den) }
	return color.RGBA{f(c.R), f(c.G), f(c.B), c.A}
}
