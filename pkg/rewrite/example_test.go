package rewrite_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/rewrite"
)

// A consumer's phone and email masked in record 1, record 2 deleted; the
// quoting, the CRLF line ends and the other rows are as they were.
func ExampleText() {
	list := "name,phone,email\r\n\"Lee, Ann\",1223334444,someone@example.com\r\nBob,5556667777,bob@example.com\r\nCy,5550001111,\"cy@example.com\"\r\n"
	edits := map[int64]rewrite.Edit{
		1: {Record: 1, Cells: map[int]string{1: "12XX33XX44", 2: "soXXonXXexXXplXXcoX"}},
		2: {Record: 2, Delete: true},
	}
	var out bytes.Buffer
	res, err := rewrite.Text(&out, strings.NewReader(list), leads.Options{Delimiter: ',', Encoding: "utf-8"}, edits)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.WriteString(strings.ReplaceAll(out.String(), "\r\n", "⏎\n"))
	fmt.Printf("edited %d, deleted %d, %d bytes in, %d out\n", res.Edited, res.Deleted, res.BytesIn, res.BytesOut)
	// Output:
	// name,phone,email⏎
	// "Lee, Ann",12XX33XX44,soXXonXXexXXplXXcoX⏎
	// Cy,5550001111,"cy@example.com"⏎
	// edited 1, deleted 1, 125 bytes in, 93 out
}
