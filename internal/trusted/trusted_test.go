package trusted

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

const doc = "query Makes { makes { name } }"

func TestParse(t *testing.T) {
	t.Parallel()
	id := hash(doc)
	for name, manifest := range map[string]string{
		"apollo":                `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + id + `","name":"Makes","type":"query","body":"` + doc + `"}]}`,
		"relay":                 `{"` + id + `":"` + doc + `"}`,
		"relay, prefixed ids":   `{"sha256:` + id + `":"` + doc + `"}`,
		"relay, upper-case hex": `{"` + strings.ToUpper(id) + `":"` + doc + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			d, err := Parse([]byte(manifest))
			if err != nil || d.Len() != 1 || d.byID[id] != doc {
				t.Errorf("%s: %v %v", name, d, err)
			}
		})
	}
	md5sum := md5.Sum([]byte(doc))
	for name, manifest := range map[string]string{
		"md5 ids (Relay's default)": `{"` + hex.EncodeToString(md5sum[:]) + `":"` + doc + `"}`,
		"id of another document":    `{"` + hash("{ me { id } }") + `":"` + doc + `"}`,
		"another format":            `{"format":"something","version":1,"operations":[]}`,
		"apollo version 2":          `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`,
		"not an object":             `["` + doc + `"]`,
		"non-string document":       `{"` + id + `":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(manifest)); err == nil {
				t.Errorf("%s: accepted", name)
			}
		})
	}
}
