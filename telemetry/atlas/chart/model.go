package chart

import (
	"image"
	"image/color"
	"time"
)

// Style is how a line is drawn.
type Style int

// Line styles, as Atlas's :line, :area, :stack, :vspan and :heatmap.
const (
	StyleLine Style = iota
	StyleArea
	StyleStack
	StyleVSpan
	StyleHeatmap
)

// ParseStyle maps Atlas's names to styles.
func ParseStyle(s string) Style {
	switch s {
	case "area":
		return StyleArea
	case "stack":
		return StyleStack
	case "vspan":
		return StyleVSpan
	case "heatmap":
		return StyleHeatmap
	}
	return StyleLine
}

// Stats are a line's legend statistics.
type Stats struct {
	Max, Min, Avg, Last float64
	Count               int
}

// Line is one series to draw.
type Line struct {
	Legend string
	// Values[i] is the datapoint at Start+i*Step.
	Values []float64
	Color  color.NRGBA
	Style  Style
	Width  float64
	Axis   int
	Stats  Stats
}

// Axis settings, as Atlas's l, u, scale and ylabel parameters. Lower and
// Upper are NaN for automatic bounds.
type Axis struct {
	Label        string
	Lower, Upper float64
	// Scale is linear, log, pow2 or sqrt.
	Scale string
	// Stack stacks every line of the axis (Atlas's stack=1).
	Stack bool
}

// Graph is a whole image.
type Graph struct {
	Title string
	// Width and Height are the plot area's size in pixels.
	Width, Height    int
	Start, End, Step int64
	Zones            []*time.Location
	Axes             [5]Axis
	Lines            []Line
	NoLegend         bool
	NoLegendStats    bool
	OnlyGraph        bool
	Warnings         []string

	// labelDrawn, when set, is told of every tick label drawn and its box
	// (the tests of the label layout read it).
	labelDrawn func(axis, text string, box image.Rectangle)
}
