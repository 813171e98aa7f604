package charts

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func msec(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// savedPNG saves p as the named chart would, into a test's directory,
// decodes it (what a reader opens), and returns its data area alone: a
// colour found there was drawn as data, not only in the legend's
// thumbnails beside it.
func savedPNG(t *testing.T, name string, p *plot.Plot) image.Image {
	t.Helper()
	c, err := Lookup(name)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name+".png")
	require.NoError(t, c.Save(p, path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 500)

	w, h := c.Width, c.Height
	if w == 0 {
		w, h = 26*vg.Centimeter, 13*vg.Centimeter
	}
	da := p.DataCanvas(draw.New(vgimg.New(w, h)))
	px := float64(img.Bounds().Dx()) / w.Points() // pixels a point
	height := img.Bounds().Dy()
	area := image.Rect(int(da.Min.X.Points()*px), height-int(da.Max.Y.Points()*px),
		int(da.Max.X.Points()*px), height-int(da.Min.Y.Points()*px))
	require.Greater(t, area.Dx(), 100, "a data area")
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(area)
}

// drawn reports whether some pixel of img is within tol of c in every
// channel: a bar's inside is its exact colour, a line's middle nearly.
func drawn(img image.Image, c color.Color, tol int) bool {
	r0, g0, b0, _ := c.RGBA()
	near := func(a, b uint32) bool { d := int(a>>8) - int(b>>8); return d >= -tol && d <= tol }
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, r0) && near(g, g0) && near(bl, b0) {
				return true
			}
		}
	}
	return false
}
