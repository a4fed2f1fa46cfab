package workbook_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/veil-privacy/veil/pkg/workbook"
	"github.com/xuri/excelize/v2"
)

// Example reads every sheet of a workbook as a lead list, skipping the
// sheets that are not one, then reads one row back by its number as search
// does.
func Example() {
	f := excelize.NewFile()
	_ = f.SetCellValue("Sheet1", "A1", "Spring campaign")
	_ = f.SetSheetRow("Sheet1", "A3", &[]any{"Name", "Phone"})
	_ = f.SetSheetRow("Sheet1", "A4", &[]any{"José Müller", 4155550166})
	_ = f.SetSheetRow("Sheet1", "A9", &[]any{"山田太郎", 4155550199})
	_, _ = f.NewSheet("Notes")
	buf, _ := f.WriteToBuffer()

	wb, err := workbook.Open(bytes.NewReader(buf.Bytes()), workbook.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer wb.Close()
	for _, name := range wb.Sheets() {
		sr, err := wb.Sheet(name)
		if errors.Is(err, workbook.ErrEmptySheet) {
			fmt.Printf("%s: skipped: %v\n", name, err)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: header %q on row %d\n", name, sr.Header(), sr.HeaderRow())
		for {
			row, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("row %d: %q\n", row.Number, row.Fields)
		}
		_ = sr.Close()
	}
	rows, err := wb.ReadRows("Sheet1", []int{9})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("read back: %q\n", rows[9])
	// Output:
	// Sheet1: header ["Name" "Phone"] on row 3
	// row 4: ["José Müller" "4155550166"]
	// row 9: ["山田太郎" "4155550199"]
	// Notes: skipped: workbook: sheet "Notes": empty sheet
	// read back: ["山田太郎" "4155550199"]
}
