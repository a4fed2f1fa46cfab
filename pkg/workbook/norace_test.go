//go:build !race

package workbook

// raceEnabled says the race detector is on.
const raceEnabled = false
