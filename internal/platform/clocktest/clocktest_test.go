package clocktest

import (
	"testing"
	"time"
)

func TestDaySweepCoversTheDayAndTheBoundary(t *testing.T) {
	times := DaySweep()
	seenHour := map[int]bool{}
	across := 0
	boundary := time.Date(Base.Year(), Base.Month(), Base.Day(), 2, 0, 0, 0, time.UTC)
	for _, at := range times {
		seenHour[at.Hour()] = true
		if d := at.Sub(boundary); d >= -10*time.Minute && d <= 10*time.Minute {
			across++
		}
		if at.Before(Base) || !at.Before(Base.Add(24*time.Hour)) {
			t.Fatalf("%s is outside the day starting %s", at, Base)
		}
	}
	if len(seenHour) != 24 {
		t.Errorf("the sweep touches %d hours of the day, want 24", len(seenHour))
	}
	if across < 3 {
		t.Errorf("%d times within 10 minutes of the 02:00 block boundary", across)
	}
	if mins := Day(Base, 7*time.Minute); len(mins) != 24*60/7+1 || mins[1].Sub(mins[0]) != 7*time.Minute {
		t.Errorf("Day(7m): %d times", len(mins))
	}
}

func TestManual(t *testing.T) {
	m := NewManual(Base)
	m.Advance(90 * time.Second)
	if got := m.Now(); !got.Equal(Base.Add(90 * time.Second)) {
		t.Fatalf("after Advance: %s", got)
	}
	m.Set(Base)
	if !m.Now().Equal(Base) {
		t.Fatalf("after Set: %s", m.Now())
	}
}
