//go:build race

package workbook

// raceEnabled says the race detector is on: it slows excelize's XML parsing
// about twentyfold, so the streaming test reads a smaller sheet.
const raceEnabled = true
