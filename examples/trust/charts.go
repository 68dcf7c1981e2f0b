package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/trustview"
)

// writeCharts draws the report's charts (see package trustview) into dir
// and returns their paths with what each shows.
func writeCharts(rep *trust.Report, dir string) ([][2]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out [][2]string
	for _, c := range trustview.Charts(rep) {
		svg, err := c.Chart.SVG()
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.Name, err)
		}
		path := filepath.Join(dir, c.Name+".svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return nil, err
		}
		out = append(out, [2]string{path, c.About})
	}
	return out, nil
}
