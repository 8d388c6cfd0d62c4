package stack

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
)

// ParseColor parses an Atlas color: a name (red, blue, …) or hex digits as
// RGB, RRGGBB or AARRGGBB.
func ParseColor(s string) (color.NRGBA, error) {
	if c, ok := namedColors[strings.ToLower(s)]; ok {
		return c, nil
	}
	h := strings.TrimPrefix(s, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) == 6 {
		h = "ff" + h
	}
	if len(h) != 8 {
		return color.NRGBA{}, fmt.Errorf("invalid color %q", s)
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.NRGBA{}, fmt.Errorf("invalid color %q", s)
	}
	return color.NRGBA{A: uint8(n >> 24), R: uint8(n >> 16), G: uint8(n >> 8), B: uint8(n)}, nil
}

func rgbHex(c color.NRGBA) string { return fmt.Sprintf("%02x%02x%02x", c.R, c.G, c.B) }

// colorString prints a color as Atlas does: RRGGBB, or AARRGGBB when not
// opaque.
func colorString(c color.NRGBA) string {
	if c.A == 0xff {
		return rgbHex(c)
	}
	return fmt.Sprintf("%02x%s", c.A, rgbHex(c))
}

var namedColors = map[string]color.NRGBA{
	"black": {0, 0, 0, 255}, "blue": {0, 0, 255, 255}, "cyan": {0, 255, 255, 255},
	"darkgray": {64, 64, 64, 255}, "gray": {128, 128, 128, 255}, "green": {0, 255, 0, 255},
	"lightgray": {192, 192, 192, 255}, "magenta": {255, 0, 255, 255}, "orange": {255, 200, 0, 255},
	"pink": {255, 175, 175, 255}, "red": {255, 0, 0, 255}, "white": {255, 255, 255, 255},
	"yellow": {255, 255, 0, 255},
}
