package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Defaults for Limits, and the thumbnail's size.
const (
	DefaultMaxBytes  = 10 << 20   // MAX_UPLOAD_BYTES
	DefaultMaxSide   = 12_000     // MAX_IMAGE_SIDE
	DefaultMaxPixels = 50_000_000 // MAX_IMAGE_PIXELS: a 48-megapixel phone photo fits
	// ThumbnailWidth is the width of every thumbnail; narrower images keep
	// their own width (thumbnails are never enlarged).
	ThumbnailWidth = 400
	// jpegQuality is the quality images and thumbnails are re-encoded at.
	jpegQuality = 88
)

// Why an upload is refused. The messages are safe to show a client; match
// them with errors.Is.
var (
	ErrTooLarge    = errors.New("the file is larger than the upload limit")
	ErrUnsupported = errors.New("the file is not a JPEG, PNG or WebP image")
	ErrDimensions  = errors.New("the image's dimensions are out of bounds")
	ErrUnreadable  = errors.New("the image is damaged and cannot be read")
)

// Limits bound what the intake accepts. A zero field takes its default.
type Limits struct {
	MaxBytes  int64 // largest file
	MaxSide   int   // widest and tallest image, in pixels
	MaxPixels int   // most pixels (width × height)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	return l
}

// Encoded is one re-encoded image, ready to store.
type Encoded struct {
	Data          []byte
	ContentType   string // JPEG or PNG
	Width, Height int
}

// Processed is an accepted upload: the image, re-encoded so that no
// metadata of the original (EXIF with GPS positions, XMP, comments)
// survives, and its thumbnail in the same format.
type Processed struct {
	Image     Encoded
	Thumbnail Encoded
}

// Process reads an upload and accepts it only for what its bytes are:
// a JPEG, PNG or WebP image (whatever its name or declared type says) of
// at most lim.MaxBytes, whose header declares dimensions within lim. The
// header is checked before any pixel is decoded, so a small file declaring
// a huge image costs nothing. A JPEG's EXIF orientation is applied to the
// pixels, since the tag itself does not survive. PNG stays PNG; JPEG
// becomes JPEG; WebP becomes JPEG, or PNG when it has transparency.
func Process(r io.Reader, lim Limits) (*Processed, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: read upload: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, lim.MaxBytes)
	}
	format := sniff(data)
	if format == nil {
		return nil, ErrUnsupported
	}
	cfg, err := format.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ErrUnreadable
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide ||
		cfg.Width*cfg.Height > lim.MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d px; at most %d px a side and %d pixels in all",
			ErrDimensions, cfg.Width, cfg.Height, lim.MaxSide, lim.MaxPixels)
	}
	img, err := format.decode(bytes.NewReader(data))
	if err != nil {
		return nil, ErrUnreadable
	}
	if format.contentType == JPEG {
		img = orient(img, exifOrientation(data))
	}

	out := JPEG
	if format.contentType == PNG || format.contentType == WebP && !opaque(img) {
		out = PNG
	}
	b := img.Bounds()
	full, err := encode(img, out)
	if err != nil {
		return nil, err
	}
	tw := min(ThumbnailWidth, b.Dx())
	th := max(1, (b.Dy()*tw+b.Dx()/2)/b.Dx())
	small := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.CatmullRom.Scale(small, small.Bounds(), img, b, draw.Src, nil)
	thumb, err := encode(small, out)
	if err != nil {
		return nil, err
	}
	return &Processed{
		Image:     Encoded{Data: full, ContentType: out, Width: b.Dx(), Height: b.Dy()},
		Thumbnail: Encoded{Data: thumb, ContentType: out, Width: tw, Height: th},
	}, nil
}

// Photo is an upload stored with its thumbnail.
type Photo struct {
	Name          string // the image's name in the store
	ThumbnailName string
	ContentType   string // of both
	Width, Height int
	// ThumbnailWidth and ThumbnailHeight are the thumbnail's dimensions.
	ThumbnailWidth, ThumbnailHeight int
}

// Ingest processes an upload (see Process) and puts the image and its
// thumbnail in store (see Put). If it fails after the first Put, that file
// stays: content addressing means it may be another photo's too, so only a
// sweep of unreferenced files may remove it.
func Ingest(ctx context.Context, store Store, r io.Reader, lim Limits) (Photo, error) {
	p, err := Process(r, lim)
	if err != nil {
		return Photo{}, err
	}
	return p.Put(ctx, store)
}

// Hashes returns the SHA-256 (lower-case hex) of the image and of the
// thumbnail, which the names Put gives them will start with.
func (p *Processed) Hashes() []string {
	image, thumb := sha256.Sum256(p.Image.Data), sha256.Sum256(p.Thumbnail.Data)
	return []string{hex.EncodeToString(image[:]), hex.EncodeToString(thumb[:])}
}

// Put puts the image and its thumbnail in store. If it fails after the
// first Put, that file stays (see Ingest).
func (p *Processed) Put(ctx context.Context, store Store) (Photo, error) {
	name, err := store.Put(ctx, bytes.NewReader(p.Image.Data), p.Image.ContentType)
	if err != nil {
		return Photo{}, err
	}
	thumb, err := store.Put(ctx, bytes.NewReader(p.Thumbnail.Data), p.Thumbnail.ContentType)
	if err != nil {
		return Photo{}, err
	}
	return Photo{
		Name: name, ThumbnailName: thumb, ContentType: p.Image.ContentType,
		Width: p.Image.Width, Height: p.Image.Height,
		ThumbnailWidth: p.Thumbnail.Width, ThumbnailHeight: p.Thumbnail.Height,
	}, nil
}

// imageFormat is one accepted format, with its own decoders: the image
// package's registry is process-wide, and any import could widen it.
type imageFormat struct {
	contentType  string
	magic        func([]byte) bool
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var formats = []imageFormat{
	{JPEG, func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }, jpeg.DecodeConfig, jpeg.Decode},
	{PNG, func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }, png.DecodeConfig, png.Decode},
	{WebP, func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}, webp.DecodeConfig, webp.Decode},
}

// sniff returns the format the bytes are in, or nil.
func sniff(data []byte) *imageFormat {
	for i := range formats {
		if formats[i].magic(data) {
			return &formats[i]
		}
	}
	return nil
}

func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// encode writes img afresh: the encoders write pixels only, no metadata.
func encode(img image.Image, contentType string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if contentType == PNG {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
	}
	if err != nil {
		return nil, fmt.Errorf("media: encode: %w", err)
	}
	return buf.Bytes(), nil
}
