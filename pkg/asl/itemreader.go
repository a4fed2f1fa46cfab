package asl

// A Distributed Map's ItemReader reads its items from S3: the objects listed
// under a prefix (s3:listObjectsV2, every page), or the items of one object
// (s3:getObject) holding a JSON array, JSON Lines or CSV rows. Reading is
// I/O, so like a Lambda invocation it runs outside the execution's lock and
// reports back; the Map thread waits in phaseRead meanwhile.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Client is the part of the S3 client an ItemReader calls, with the SDK's
// signatures; *s3.Client implements it, with its endpoint taken from the
// SDK's configuration like any other client's.
type S3Client interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3Client = (*s3.Client)(nil)

// itemReader is an ItemReader.
type itemReader struct {
	resource     string    // readerListObjects or readerGetObject
	params       *template // Parameters, evaluated on the effective input
	inputType    string    // s3:getObject: JSON, JSONL or CSV
	csvHeaders   []string  // CSVHeaderLocation GIVEN; nil for FIRST_ROW
	csvComma     rune
	maxItems     int64 // 0: no limit
	maxItemsPath *path
}

// readerParams are the Parameters each resource takes; the local
// interpreter passes these on to the S3 API call.
var readerParams = map[string][]string{
	readerListObjects: {"Bucket", "Prefix", "StartAfter", "MaxKeys", "ExpectedBucketOwner", "RequestPayer"},
	readerGetObject:   {"Bucket", "Key", "VersionId", "ExpectedBucketOwner", "RequestPayer"},
}

var csvDelimiters = map[string]rune{"COMMA": ',', "PIPE": '|', "SEMICOLON": ';', "SPACE": ' ', "TAB": '\t'}

func parseItemReader(st *state, v any) (*itemReader, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ItemReader must be an object")
	}
	r := &itemReader{csvComma: ','}
	for k := range m {
		if k != "Resource" && k != "Parameters" && k != "ReaderConfig" {
			return nil, fmt.Errorf("ItemReader: the field %q is not supported", k)
		}
	}
	r.resource, _ = m["Resource"].(string)
	allowed, ok := readerParams[r.resource]
	if !ok {
		return nil, fmt.Errorf("ItemReader.Resource must be %s or %s", readerListObjects, readerGetObject)
	}
	pm, ok := m["Parameters"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ItemReader.Parameters must be an object naming the Bucket")
	}
	var err error
	if r.params, err = compileTemplate(pm, "ItemReader.Parameters"); err != nil {
		return nil, err
	}
	required := []string{"Bucket"}
	if r.resource == readerGetObject {
		required = append(required, "Key")
	}
	for _, k := range required {
		if _, ok := r.params.obj[k]; !ok {
			return nil, fmt.Errorf("ItemReader.Parameters needs %s (or %s.$)", k, k)
		}
	}
	for _, k := range sortedKeys(pm) {
		name := k
		if n, dyn := cutDynamic(k); dyn {
			name = n
		}
		if !slices.Contains(allowed, name) {
			st.unsupported = fmt.Sprintf("the ItemReader parameter %q is not supported by the local interpreter", name)
		}
	}
	rc, _ := m["ReaderConfig"].(map[string]any)
	if v, ok := m["ReaderConfig"]; ok {
		if err := r.parseConfig(st, v); err != nil {
			return nil, err
		}
	}
	switch {
	case r.resource == readerGetObject && rc["InputType"] == nil && rc["ManifestType"] == nil:
		return nil, fmt.Errorf("ItemReader.ReaderConfig.InputType is required with %s", readerGetObject)
	case r.resource == readerListObjects && rc["InputType"] != nil && rc["Transformation"] != "LOAD_AND_FLATTEN":
		// Without LOAD_AND_FLATTEN the listing's metadata are the items.
		return nil, fmt.Errorf("ItemReader.ReaderConfig.InputType is only used with %s with Transformation LOAD_AND_FLATTEN", readerListObjects)
	}
	return r, nil
}

func cutDynamic(k string) (string, bool) {
	if len(k) > 2 && k[len(k)-2:] == ".$" {
		return k[:len(k)-2], true
	}
	return k, false
}

func (r *itemReader) parseConfig(st *state, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("ItemReader.ReaderConfig must be an object")
	}
	unsupported := func(what string) {
		st.unsupported = fmt.Sprintf("the ItemReader's %s is not supported by the local interpreter", what)
	}
	headerLocation := ""
	var err error
	for _, k := range sortedKeys(m) {
		val := m[k]
		s, isString := val.(string)
		switch k {
		case "InputType":
			switch s {
			case "JSON", "JSONL", "CSV":
				r.inputType = s
			case "PARQUET", "MANIFEST":
				unsupported("InputType " + s)
			default:
				return fmt.Errorf("ItemReader.ReaderConfig.InputType must be CSV, JSON, JSONL, PARQUET or MANIFEST")
			}
		case "CSVHeaderLocation":
			if s != "FIRST_ROW" && s != "GIVEN" {
				return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaderLocation must be FIRST_ROW or GIVEN")
			}
			headerLocation = s
		case "CSVHeaders":
			if r.csvHeaders, ok = stringList(val); !ok {
				return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaders must be a non-empty array of strings")
			}
		case "CSVDelimiter":
			if r.csvComma, ok = csvDelimiters[s]; !ok {
				return fmt.Errorf("ItemReader.ReaderConfig.CSVDelimiter must be COMMA, PIPE, SEMICOLON, SPACE or TAB")
			}
		case "MaxItems":
			n, ok := integer(val)
			if !ok || n < 0 || n > maxReaderItems {
				return fmt.Errorf("ItemReader.ReaderConfig.MaxItems must be an integer from 0 to %d", maxReaderItems)
			}
			r.maxItems = n
		case "MaxItemsPath":
			if r.maxItemsPath, err = optReferencePath(m, k); err != nil {
				return fmt.Errorf("ItemReader.ReaderConfig: %w", err)
			}
		case "Transformation":
			switch {
			case !isString || (s != "NONE" && s != "LOAD_AND_FLATTEN"):
				return fmt.Errorf("ItemReader.ReaderConfig.Transformation must be NONE or LOAD_AND_FLATTEN")
			case s == "LOAD_AND_FLATTEN":
				unsupported("Transformation LOAD_AND_FLATTEN")
			}
		case "ManifestType":
			unsupported("ManifestType")
		case "ItemsPointer":
			unsupported("ItemsPointer")
		default:
			return fmt.Errorf("ItemReader.ReaderConfig: the field %q is not supported", k)
		}
	}
	if _, ok := m["MaxItems"]; ok && r.maxItemsPath != nil {
		return fmt.Errorf("ItemReader.ReaderConfig: MaxItems and MaxItemsPath are exclusive")
	}
	switch {
	case r.inputType == "CSV" && headerLocation == "":
		return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaderLocation is required with InputType CSV")
	case headerLocation == "GIVEN" && r.csvHeaders == nil:
		return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaders is required with CSVHeaderLocation GIVEN")
	case headerLocation != "GIVEN" && r.csvHeaders != nil:
		return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaders is only used with CSVHeaderLocation GIVEN")
	case headerLocation != "" && r.inputType != "CSV" && r.inputType != "":
		return fmt.Errorf("ItemReader.ReaderConfig.CSVHeaderLocation is only used with InputType CSV")
	}
	return nil
}

// readRequest is an ItemReader's evaluated Parameters and MaxItems.
type readRequest struct {
	params   map[string]string
	maxKeys  int32
	maxItems int // 0: no limit
}

// readItems evaluates the ItemReader's Parameters on eff and reads the
// items in the background; onItemsRead continues the Map Run.
func (x *Execution) readItems(th *thread, st *state, eff any) {
	r := st.dist.reader
	req, serr := x.readRequest(th, st, eff)
	if serr != nil {
		x.mapRunFailed(th, st, serr)
		return
	}
	client := x.e.opts.S3
	if client == nil {
		x.mapRunFailed(th, st, runtimeError("An error occurred while executing the state '%s'. The ItemReader cannot read s3://%s: the interpreter has no S3 client (asl.Options.S3).", st.name, req.params["Bucket"]))
		return
	}
	th.Phase = phaseRead
	th.Attempt++
	ctx, cancel := context.WithCancel(WithRole(x.e.ctx, x.rec.RoleARN))
	if old, ok := x.cancels[th.ID]; ok {
		old()
	}
	x.cancels[th.ID] = cancel
	id, attempt := th.ID, th.Attempt
	x.e.addBusy(1)
	go func() {
		defer x.e.addBusy(-1)
		items, err := r.read(ctx, client, req)
		x.onItemsRead(id, attempt, items, err)
	}()
}

// restartRead reads again the items of a Map thread restored in phaseRead.
func (x *Execution) restartRead(th *thread) {
	st := x.state(th)
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		th.Phase = phaseEnter
		x.mapRunFailed(th, st, serr)
		x.resume(th)
		return
	}
	x.readItems(th, st, eff)
}

func (x *Execution) onItemsRead(id string, attempt int, items []any, err error) {
	if x.e.isClosed() {
		return
	}
	x.mu.Lock()
	th := x.threads[id]
	if th == nil || th.Attempt != attempt || th.Phase != phaseRead || x.rec.Status != StatusRunning {
		x.mu.Unlock()
		return
	}
	delete(x.cancels, id)
	st := x.state(th)
	th.Phase = phaseEnter // transient: runItems or mapRunFailed moves it on
	if err != nil {
		var serr *StateError
		if !errors.As(err, &serr) {
			serr = &StateError{Name: ErrItemReaderFailed, Cause: err.Error()}
		}
		x.mapRunFailed(th, st, serr)
	} else if eff, serr := x.inputPath(th, st); serr != nil {
		x.mapRunFailed(th, st, serr)
	} else {
		x.runItems(th, st, eff, items)
	}
	x.resume(th)
	x.commit()
	x.mu.Unlock()
	x.e.notify()
}

// readRequest evaluates the ItemReader's Parameters and MaxItems; a value
// of the wrong type fails with States.ItemReaderFailed.
func (x *Execution) readRequest(th *thread, st *state, eff any) (readRequest, *StateError) {
	r := st.dist.reader
	failed := func(format string, a ...any) *StateError {
		return &StateError{Name: ErrItemReaderFailed, Cause: fmt.Sprintf("An error occurred while executing the state '%s'. ", st.name) + fmt.Sprintf(format, a...)}
	}
	v, err := r.params.eval(eff, x.contextObject(th, st, ""))
	if err != nil {
		return readRequest{}, payloadError("ItemReader.Parameters", st.name, err)
	}
	req := readRequest{params: map[string]string{}, maxItems: int(r.maxItems)}
	for k, val := range v.(map[string]any) {
		if k == "MaxKeys" {
			n, ok := integer(val)
			if !ok || n < 1 || n > 1000 {
				return readRequest{}, failed("The ItemReader's Parameters.MaxKeys must be an integer from 1 to 1000, got %s.", encodeJSON(val))
			}
			req.maxKeys = int32(n)
			continue
		}
		s, ok := val.(string)
		if !ok {
			return readRequest{}, failed("The ItemReader's Parameters.%s must be a string, got %s.", k, kind(val))
		}
		req.params[k] = s
	}
	if req.params["Bucket"] == "" {
		return readRequest{}, failed("The ItemReader's Parameters.Bucket is empty.")
	}
	if r.resource == readerGetObject && req.params["Key"] == "" {
		return readRequest{}, failed("The ItemReader's Parameters.Key is empty.")
	}
	if r.maxItemsPath != nil {
		v, ok := r.maxItemsPath.get(eff, nil)
		n, isInt := integer(v)
		switch {
		case !ok || !isInt:
			return readRequest{}, failed("The MaxItemsPath field refers to value '%s' which is not a valid integer: %s", encodeJSON(v), r.maxItemsPath.raw)
		case n < 0:
			return readRequest{}, failed("field MaxItems must be positive")
		}
		req.maxItems = int(min(n, maxReaderItems))
	}
	if req.maxItems == 0 {
		req.maxItems = maxReaderItems
	}
	return req, nil
}

// read returns the items; it fails with *StateError States.ItemReaderFailed
// when S3 refuses (no such bucket or object) or the content is not a list.
func (r *itemReader) read(ctx context.Context, c S3Client, req readRequest) ([]any, error) {
	if r.resource == readerListObjects {
		return listObjects(ctx, c, req)
	}
	p := req.params
	in := &s3.GetObjectInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"])}
	if v, ok := p["VersionId"]; ok {
		in.VersionId = aws.String(v)
	}
	if v, ok := p["ExpectedBucketOwner"]; ok {
		in.ExpectedBucketOwner = aws.String(v)
	}
	if v, ok := p["RequestPayer"]; ok {
		in.RequestPayer = types.RequestPayer(v)
	}
	where := fmt.Sprintf("s3://%s/%s", p["Bucket"], p["Key"])
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, readerFailed("Reading %s failed: %v", where, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, readerFailed("Reading %s failed: %v", where, err)
	}
	var items []any
	switch r.inputType {
	case "JSON":
		items, err = jsonItems(body)
	case "JSONL":
		items, err = jsonLinesItems(body, req.maxItems)
	case "CSV":
		items, err = csvItems(body, r.csvComma, r.csvHeaders, req.maxItems)
	}
	if err != nil {
		return nil, readerFailed("%s: %v", where, err)
	}
	if len(items) > req.maxItems {
		items = items[:req.maxItems]
	}
	return items, nil
}

func readerFailed(format string, a ...any) *StateError {
	return &StateError{Name: ErrItemReaderFailed, Cause: fmt.Sprintf(format, a...)}
}

// listObjects lists every page of the prefix. Each item is the object's
// metadata as AWS's ItemReader gives it: Etag (quoted, as S3 returns it),
// Key, LastModified (epoch seconds), Size and StorageClass.
func listObjects(ctx context.Context, c S3Client, req readRequest) ([]any, error) {
	p := req.params
	in := &s3.ListObjectsV2Input{Bucket: aws.String(p["Bucket"])}
	if v, ok := p["Prefix"]; ok {
		in.Prefix = aws.String(v)
	}
	if v, ok := p["StartAfter"]; ok {
		in.StartAfter = aws.String(v)
	}
	if v, ok := p["ExpectedBucketOwner"]; ok {
		in.ExpectedBucketOwner = aws.String(v)
	}
	if v, ok := p["RequestPayer"]; ok {
		in.RequestPayer = types.RequestPayer(v)
	}
	if req.maxKeys > 0 {
		in.MaxKeys = aws.Int32(req.maxKeys)
	}
	items := []any{}
	pages := s3.NewListObjectsV2Paginator(c, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, readerFailed("Listing s3://%s/%s failed: %v", p["Bucket"], p["Prefix"], err)
		}
		for _, o := range page.Contents {
			items = append(items, objectItem(o))
			if len(items) >= req.maxItems {
				return items, nil
			}
		}
	}
	return items, nil
}

func objectItem(o types.Object) map[string]any {
	item := map[string]any{"Etag": aws.ToString(o.ETag), "Key": aws.ToString(o.Key)}
	if o.LastModified != nil {
		item["LastModified"] = intValue(o.LastModified.Unix())
	}
	if o.Size != nil {
		item["Size"] = intValue(*o.Size)
	}
	if o.StorageClass != "" {
		item["StorageClass"] = string(o.StorageClass)
	}
	return item
}

// jsonItems returns the elements of a JSON array.
func jsonItems(body []byte) ([]any, error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("the object is not valid JSON: %w", err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("Attempting to map over non-iterable node: the object holds a JSON %s, not an array.", kind(v))
	}
	return list, nil
}

// jsonLinesItems returns the values of a JSON Lines object, up to max.
func jsonLinesItems(body []byte, max int) ([]any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	items := []any{}
	for len(items) < max {
		var v any
		err := d.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d is not valid JSON: %w", len(items)+1, err)
		}
		items = append(items, v)
	}
	return items, nil
}

// csvItems returns the rows of a CSV object as objects keyed by the header
// (the given one, or the first row), up to max. Fields are strings; a short
// row gets empty strings, a long row's extra fields are dropped, as AWS
// parses. AWS's backslash escapes are not interpreted.
func csvItems(body []byte, comma rune, headers []string, max int) ([]any, error) {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	if headers == nil {
		first, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return []any{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the header row is not valid CSV: %w", err)
		}
		headers = first
	}
	items := []any{}
	for len(items) < max {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid CSV: %w", err)
		}
		row := make(map[string]any, len(headers))
		for i, h := range headers {
			row[h] = ""
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		items = append(items, row)
	}
	return items, nil
}
