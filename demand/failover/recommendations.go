package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Recommendation is a recorded failover recommendation.
type Recommendation struct {
	ID         string    `json:"id"`
	Fleet      string    `json:"fleet"`
	Region     string    `json:"region"`
	Onset      time.Time `json:"onset"`
	DetectedAt time.Time `json:"detected_at"`
	Evidence   Evidence  `json:"evidence"`
}

// Recommendations lists recommendations, newest first.
func (s *Service) Recommendations(ctx context.Context, fleetName string, limit int) ([]Recommendation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, fleet, region, onset, detected_at, evidence FROM failover_recommendations
		WHERE fleet = ? OR ? = '' ORDER BY detected_at DESC, id LIMIT ?`, fleetName, fleetName, limit)
	if err != nil {
		return nil, fmt.Errorf("list recommendations: %w", err)
	}
	defer rows.Close()
	out := []Recommendation{}
	for rows.Next() {
		var r Recommendation
		var onset, at int64
		var ev string
		if err := rows.Scan(&r.ID, &r.Fleet, &r.Region, &onset, &at, &ev); err != nil {
			return nil, fmt.Errorf("list recommendations: %w", err)
		}
		r.Onset, r.DetectedAt = ms(onset), ms(at)
		if err := json.Unmarshal([]byte(ev), &r.Evidence); err != nil {
			return nil, fmt.Errorf("recommendation %s evidence: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
