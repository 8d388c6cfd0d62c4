package chart

import (
	"image/color"
	"strconv"
	"strings"
)

// Palettes are Atlas's color lists by name; armytage is the default.
var Palettes = map[string][]string{
	"armytage": strings.Fields("0075DC 993F00 9DCC00 4C005C 00998F FFA405 5EF1F2 F0A3FF 94FFB5 FF0010 2BCE48 740AFF " +
		"191919 FF5005 005C31 FFCC99 808080 8F7C00 C20088 003380 FFA8BB 426600 990000 FFE100"),
	"reds":    strings.Fields("67000D A50F15 CB181D EF3B2C FB6A4A FC9272 FCBBA1"),
	"greens":  strings.Fields("00441B 006D2C 238B45 41AB5D 74C476 A1D99B C7E9C0"),
	"blues":   strings.Fields("08306B 08519C 2171B5 4292C6 6BAED6 9ECAE1 C6DBEF"),
	"oranges": strings.Fields("7F2704 A63603 D94801 F16913 FD8D3C FDAE6B FDD0A2"),
	"purples": strings.Fields("3F007D 54278F 6A51A3 807DBA 9E9AC8 BCBDDC DADAEB"),
}

// Palette returns the colors of a named palette, or of a list written as
// "(,1a9850,91cf60,)"; unknown names give the default palette.
func Palette(name string) []color.NRGBA {
	var hexes []string
	if strings.HasPrefix(name, "(") {
		for _, h := range strings.Split(strings.Trim(name, "(,)"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				hexes = append(hexes, h)
			}
		}
	} else {
		hexes = Palettes[name]
	}
	if len(hexes) == 0 {
		hexes = Palettes["armytage"]
	}
	out := make([]color.NRGBA, 0, len(hexes))
	for _, h := range hexes {
		if c, ok := hexColor(h); ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return Palette("armytage")
	}
	return out
}

func hexColor(h string) (color.NRGBA, bool) {
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) == 6 {
		h = "ff" + h
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 8 {
		return color.NRGBA{}, false
	}
	return color.NRGBA{A: uint8(n >> 24), R: uint8(n >> 16), G: uint8(n >> 8), B: uint8(n)}, true
}
