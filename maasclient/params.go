package maasclient

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strconv"
)

// Params are the fields of a request: the query of a GET or DELETE, the multipart
// body of a POST or PUT. The zero value is empty and ready; methods chain.
type Params struct {
	fields []param
}

type param struct {
	name, value string
	file        bool
	filename    string
	data        []byte
}

// Add appends a field.
func (p *Params) Add(name, value string) *Params {
	p.fields = append(p.fields, param{name: name, value: value})
	return p
}

// AddOptional appends a field when value is not empty.
func (p *Params) AddOptional(name, value string) *Params {
	if value != "" {
		p.Add(name, value)
	}
	return p
}

// AddList appends one field per value (MAAS reads lists as repeated keys).
func (p *Params) AddList(name string, values []string) *Params {
	for _, v := range values {
		p.Add(name, v)
	}
	return p
}

// addListOrClear appends a list; an empty, non-nil one as a single empty value, which
// MAAS reads as "clear the list". nil appends nothing.
func (p *Params) addListOrClear(name string, values []string) *Params {
	if values != nil && len(values) == 0 {
		return p.Add(name, "")
	}
	return p.AddList(name, values)
}

// AddBool appends "true" or "false".
func (p *Params) AddBool(name string, v bool) *Params {
	return p.Add(name, strconv.FormatBool(v))
}

// addFlag appends name=true when v is set, nothing otherwise.
func (p *Params) addFlag(name string, v bool) *Params {
	if v {
		p.AddBool(name, true)
	}
	return p
}

// AddInt appends a decimal integer.
func (p *Params) AddInt(name string, v int) *Params {
	return p.Add(name, strconv.Itoa(v))
}

// AddFile appends a file part (multipart only; ignored in a query).
func (p *Params) AddFile(name, filename string, data []byte) *Params {
	p.fields = append(p.fields, param{name: name, file: true, filename: filename, data: data})
	return p
}

// Len is the number of fields.
func (p *Params) Len() int {
	if p == nil {
		return 0
	}
	return len(p.fields)
}

// values are the plain fields as url.Values.
func (p *Params) values() url.Values {
	v := url.Values{}
	if p == nil {
		return v
	}
	for _, f := range p.fields {
		if !f.file {
			v.Add(f.name, f.value)
		}
	}
	return v
}

// multipart encodes the fields as a multipart/form-data body. It is encoded afresh
// for each attempt, so a retry sends the same fields.
func (p *Params) multipart() ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if p != nil {
		for _, f := range p.fields {
			if f.file {
				fw, err := w.CreateFormFile(f.name, f.filename)
				if err != nil {
					return nil, "", err
				}
				if _, err := fw.Write(f.data); err != nil {
					return nil, "", err
				}
				continue
			}
			if err := w.WriteField(f.name, f.value); err != nil {
				return nil, "", err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}
