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
)

func msec(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// savedPNG saves p as the named chart would, into a test's directory,
// and decodes it: what a reader opens.
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
	return img
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
