// Package chart renders Atlas-style graphs as PNG images: a plot area of
// the requested size with value axes on the left (and right for extra
// axes), a time axis per time zone below, and a legend with each line's
// statistics, in Atlas's light theme and palettes.
//
// Lines are drawn as lines, areas, stacks, vertical spans or heatmaps;
// up to five y axes have their own bounds, scale and label. Rendering uses
// only the standard image packages and the Go fonts.
package chart
