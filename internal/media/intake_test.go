package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"testing"

	"github.com/carlot/carlot/internal/media"
)

// gpsLatitude is the GPSLatitude value of the EXIF block below, as stored:
// 37/1 degrees, 48/1 minutes, 301234/10000 seconds.
var gpsLatitude = []byte{0, 0, 0, 37, 0, 0, 0, 1, 0, 0, 0, 48, 0, 0, 0, 1, 0, 0x04, 0x98, 0xB2, 0, 0, 0x27, 0x10}

// exifJPEG encodes img as a JPEG carrying an EXIF block (APP1) as a camera
// writes one: IFD0 with the orientation (when not 0) and a pointer to a
// GPS IFD holding the latitude where the photo was taken.
func exifJPEG(t *testing.T, img image.Image, orientation uint16) []byte {
	t.Helper()
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		return be.AppendUint32(b, value)
	}
	const ifd0 = 8
	n := 1
	if orientation != 0 {
		n = 2
	}
	gpsIFD := uint32(ifd0 + 2 + 12*n + 4)
	gpsData := gpsIFD + 2 + 2*12 + 4

	tiff := []byte("MM\x00\x2a")
	tiff = be.AppendUint32(tiff, ifd0)
	tiff = be.AppendUint16(tiff, uint16(n))
	if orientation != 0 {
		tiff = entry(tiff, 0x0112, 3, 1, uint32(orientation)<<16) // SHORT, left-justified
	}
	tiff = entry(tiff, 0x8825, 4, 1, gpsIFD) // GPSInfo IFD pointer
	tiff = be.AppendUint32(tiff, 0)
	tiff = be.AppendUint16(tiff, 2)
	tiff = entry(tiff, 0x0001, 2, 2, 'N'<<24) // GPSLatitudeRef "N"
	tiff = entry(tiff, 0x0002, 5, 3, gpsData) // GPSLatitude, three RATIONALs
	tiff = be.AppendUint32(tiff, 0)
	tiff = append(tiff, gpsLatitude...)

	app1 := []byte{0xFF, 0xE1}
	app1 = be.AppendUint16(app1, uint16(2+6+len(tiff)))
	app1 = append(app1, "Exif\x00\x00"...)
	app1 = append(app1, tiff...)
	out := append([]byte{0xFF, 0xD8}, app1...)
	return append(out, plain.Bytes()[2:]...)
}

// photo is a width×height image, red on the left half and blue on the right.
func photo(width, height int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			c := color.RGBA{220, 20, 20, 255}
			if x >= width/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// appSegments lists the APPn markers of a JPEG, up to its image data.
func appSegments(t *testing.T, jpg []byte) []byte {
	t.Helper()
	var apps []byte
	for i := 2; i+4 <= len(jpg) && jpg[i+1] != 0xDA; i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:])) {
		if jpg[i] != 0xFF {
			t.Fatalf("not a marker at %d", i)
		}
		if jpg[i+1] >= 0xE0 && jpg[i+1] <= 0xEF {
			apps = append(apps, jpg[i+1])
		}
	}
	return apps
}

func decodeAs(t *testing.T, e media.Encoded) image.Image {
	t.Helper()
	var img image.Image
	var err error
	switch e.ContentType {
	case media.JPEG:
		img, err = jpeg.Decode(bytes.NewReader(e.Data))
	case media.PNG:
		img, err = png.Decode(bytes.NewReader(e.Data))
	default:
		t.Fatalf("content type %s", e.ContentType)
	}
	if err != nil {
		t.Fatalf("%s does not decode: %v", e.ContentType, err)
	}
	if b := img.Bounds(); b.Dx() != e.Width || b.Dy() != e.Height {
		t.Fatalf("%s is %v, says %d×%d", e.ContentType, b, e.Width, e.Height)
	}
	return img
}

func TestProcessDropsEXIFAndGPS(t *testing.T) {
	t.Parallel()
	upload := exifJPEG(t, photo(800, 600), 0)
	if !bytes.Contains(upload, []byte("Exif")) || !bytes.Contains(upload, gpsLatitude) {
		t.Fatal("the test upload carries no GPS block")
	}
	if _, err := jpeg.Decode(bytes.NewReader(upload)); err != nil {
		t.Fatalf("the test upload is no JPEG: %v", err)
	}
	p, err := media.Process(bytes.NewReader(upload), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []media.Encoded{p.Image, p.Thumbnail} {
		if e.ContentType != media.JPEG {
			t.Fatalf("content type %s, want JPEG", e.ContentType)
		}
		if bytes.Contains(e.Data, []byte("Exif")) || bytes.Contains(e.Data, gpsLatitude) {
			t.Fatal("the EXIF GPS block survived")
		}
		if apps := appSegments(t, e.Data); len(apps) != 0 {
			t.Fatalf("APP segments % X survived", apps)
		}
		decodeAs(t, e)
	}
	if p.Image.Width != 800 || p.Image.Height != 600 {
		t.Errorf("image %d×%d, want 800×600", p.Image.Width, p.Image.Height)
	}
	if p.Thumbnail.Width != 400 || p.Thumbnail.Height != 300 {
		t.Errorf("thumbnail %d×%d, want 400×300", p.Thumbnail.Width, p.Thumbnail.Height)
	}
}

// A phone held upright stores the sensor's landscape pixels and tags them
// "turn a quarter clockwise"; with the tag gone, the pixels must be turned.
func TestProcessAppliesTheEXIFOrientation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		orientation   uint16
		width, height int
		redAt, blueAt image.Point
	}{
		{1, 80, 40, image.Pt(10, 20), image.Pt(70, 20)},
		{3, 80, 40, image.Pt(70, 20), image.Pt(10, 20)},
		{6, 40, 80, image.Pt(20, 10), image.Pt(20, 70)},
		{8, 40, 80, image.Pt(20, 70), image.Pt(20, 10)},
	} {
		t.Run(fmt.Sprintf("orientation %d", tc.orientation), func(t *testing.T) {
			p, err := media.Process(bytes.NewReader(exifJPEG(t, photo(80, 40), tc.orientation)), media.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			img := decodeAs(t, p.Image)
			if p.Image.Width != tc.width || p.Image.Height != tc.height {
				t.Errorf("orientation %d: %d×%d, want %d×%d", tc.orientation, p.Image.Width, p.Image.Height, tc.width, tc.height)
				return
			}
			if r, _, b, _ := img.At(tc.redAt.X, tc.redAt.Y).RGBA(); r>>8 < 180 || b>>8 > 80 {
				t.Errorf("orientation %d: not red at %v", tc.orientation, tc.redAt)
			}
			if r, _, b, _ := img.At(tc.blueAt.X, tc.blueAt.Y).RGBA(); b>>8 < 180 || r>>8 > 80 {
				t.Errorf("orientation %d: not blue at %v", tc.orientation, tc.blueAt)
			}
		})
	}
}

func TestProcessKeepsPNGAndItsTransparency(t *testing.T) {
	t.Parallel()
	src := image.NewNRGBA(image.Rect(0, 0, 500, 250))
	for y := range 250 {
		for x := 250; x < 500; x++ {
			src.SetNRGBA(x, y, color.NRGBA{10, 200, 10, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	p, err := media.Process(&buf, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Image.ContentType != media.PNG || p.Thumbnail.ContentType != media.PNG {
		t.Fatalf("types %s, %s, want PNG", p.Image.ContentType, p.Thumbnail.ContentType)
	}
	thumb := decodeAs(t, p.Thumbnail)
	if p.Thumbnail.Width != 400 || p.Thumbnail.Height != 200 {
		t.Fatalf("thumbnail %d×%d, want 400×200", p.Thumbnail.Width, p.Thumbnail.Height)
	}
	if _, _, _, a := thumb.At(50, 100).RGBA(); a != 0 {
		t.Errorf("transparent half has alpha %d", a)
	}
	if _, g, _, a := thumb.At(350, 100).RGBA(); a != 0xffff || g>>8 < 180 {
		t.Errorf("opaque half is not green")
	}
	decodeAs(t, p.Image)
}

// The WebP files were made with cwebp from generated PNGs: opaque.webp is
// a lossy 600×300 gradient, alpha.webp a lossless 64×48 image whose left
// half is transparent.
func TestProcessConvertsWebP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file                   string
		contentType            string
		width, height, thumbW  int
		transparentAtThumbnail bool
	}{
		{"testdata/opaque.webp", media.JPEG, 600, 300, 400, false},
		{"testdata/alpha.webp", media.PNG, 64, 48, 64, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := media.Process(bytes.NewReader(data), media.Limits{})
			if err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
			if p.Image.ContentType != tc.contentType || p.Image.Width != tc.width || p.Image.Height != tc.height ||
				p.Thumbnail.Width != tc.thumbW {
				t.Errorf("%s: %s %d×%d, thumbnail %d wide", tc.file, p.Image.ContentType, p.Image.Width, p.Image.Height, p.Thumbnail.Width)
			}
			thumb := decodeAs(t, p.Thumbnail)
			decodeAs(t, p.Image)
			if _, _, _, a := thumb.At(5, 5).RGBA(); (a == 0) != tc.transparentAtThumbnail {
				t.Errorf("%s: alpha %d at the top left", tc.file, a)
			}
		})
	}
}

func TestProcessRefuses(t *testing.T) {
	t.Parallel()
	var gifData, pngData, jpegData bytes.Buffer
	if err := gif.Encode(&gifData, photo(20, 20), nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngData, photo(300, 200)); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, photo(300, 200), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		lim  media.Limits
		want error
	}{
		{"a GIF", gifData.Bytes(), media.Limits{}, media.ErrUnsupported},
		{"HTML", []byte("<html><script>alert(1)</script></html>"), media.Limits{}, media.ErrUnsupported},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), media.Limits{}, media.ErrUnsupported},
		{"nothing", nil, media.Limits{}, media.ErrUnsupported},
		{"half a JPEG", jpegData.Bytes()[:jpegData.Len()/2], media.Limits{}, media.ErrUnreadable},
		{"a JPEG's magic and then junk", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 100)...), media.Limits{}, media.ErrUnreadable},
		{"a byte over the size limit", pngData.Bytes(), media.Limits{MaxBytes: int64(pngData.Len() - 1)}, media.ErrTooLarge},
		{"wider than the side limit", pngData.Bytes(), media.Limits{MaxSide: 299}, media.ErrDimensions},
		{"more pixels than the budget", pngData.Bytes(), media.Limits{MaxPixels: 300*200 - 1}, media.ErrDimensions},
		// Decoding this would need 14 GB; only its 33-byte header is read.
		{"a PNG declaring 60,000 px a side", pngHeader(60_000, 60_000), media.Limits{}, media.ErrDimensions},
		{"a PNG declaring 0 px", pngHeader(0, 10), media.Limits{}, media.ErrUnreadable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := media.Process(bytes.NewReader(tc.data), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("exactly the size limit", func(t *testing.T) {
		t.Parallel()
		if _, err := media.Process(bytes.NewReader(pngData.Bytes()), media.Limits{MaxBytes: int64(pngData.Len())}); err != nil {
			t.Fatal(err)
		}
	})
}

// pngHeader is a PNG signature and an IHDR chunk declaring an 8-bit RGBA
// image of the given size, followed by an empty image and its end.
func pngHeader(width, height uint32) []byte {
	chunk := func(b []byte, kind string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		body := append([]byte(kind), data...)
		b = append(b, body...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(body))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	b = chunk(b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	return chunk(b, "IEND", nil)
}

func TestIngestStoresTheImageAndItsThumbnail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := media.NewFileStore(t.TempDir())
	upload := exifJPEG(t, photo(1200, 900), 0)
	ph, err := media.Ingest(ctx, store, bytes.NewReader(upload), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ph.ContentType != media.JPEG || ph.Width != 1200 || ph.Height != 900 || ph.ThumbnailWidth != 400 || ph.ThumbnailHeight != 300 {
		t.Fatalf("photo %+v", ph)
	}
	if ph.Name == ph.ThumbnailName {
		t.Fatal("the thumbnail is the image")
	}
	for _, name := range []string{ph.Name, ph.ThumbnailName} {
		f, err := store.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(f)
		f.Close()
		if bytes.Contains(buf.Bytes(), gpsLatitude) {
			t.Fatalf("%s carries the GPS position", name)
		}
		if ct, _ := media.ContentType(name); ct != media.JPEG {
			t.Fatalf("%s is named as %s", name, ct)
		}
	}
	again, err := media.Ingest(ctx, store, bytes.NewReader(upload), media.Limits{})
	if err != nil || again != ph {
		t.Fatalf("the same upload again = %+v, %v; want the same files", again, err)
	}
	if _, err := media.Ingest(ctx, store, bytes.NewReader([]byte("GIF89a")), media.Limits{}); !errors.Is(err, media.ErrUnsupported) {
		t.Fatalf("a GIF = %v", err)
	}
	if files := storedFiles(t, store.Dir()); len(files) != 2 {
		t.Fatalf("files = %v, want the image and the thumbnail", files)
	}
}
