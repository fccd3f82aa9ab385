package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

const decodeVinQuery = `query($vin: String!) { decodeVin(vin: $vin) {
	vin valid problems { code message } wmi manufacturer country vds modelYear plantCode serial } }`

// decodeVin is public, touches no database, and answers a bad VIN with
// data rather than an error.
func TestDecodeVinIsPublicAndReadsTheVIN(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Empty)

	t.Run("a real VIN, anonymously", func(t *testing.T) {
		var got struct{ DecodeVin json.RawMessage }
		statements := a.CountStatements(func() { a.Query(&got, decodeVinQuery, map[string]any{"vin": " 1hgcm82633a004352"}) })
		want := `{"vin":"1HGCM82633A004352","valid":true,"problems":[],"wmi":"1HG","manufacturer":"Honda",` +
			`"country":"United States","vds":"CM826","modelYear":2003,"plantCode":"A","serial":"004352"}`
		if string(got.DecodeVin) != want {
			t.Errorf("got  %s\nwant %s", got.DecodeVin, want)
		}
		if statements != 0 {
			t.Errorf("decoding ran %d SQL statements, want none", statements)
		}
	})

	t.Run("a short VIN is data, not an error", func(t *testing.T) {
		var got struct{ DecodeVin json.RawMessage }
		a.Query(&got, decodeVinQuery, map[string]any{"vin": "WP0ZZZ99ZTS39212"})
		want := `{"vin":"WP0ZZZ99ZTS39212","valid":false,"problems":[{"code":"LENGTH","message":"must be 17 characters, not 16"}],` +
			`"wmi":"WP0","manufacturer":"Porsche","country":"Germany","vds":null,"modelYear":null,"plantCode":null,"serial":null}`
		if string(got.DecodeVin) != want {
			t.Errorf("got  %s\nwant %s", got.DecodeVin, want)
		}
	})

	t.Run("a mistyped check digit", func(t *testing.T) {
		var got struct {
			DecodeVin struct {
				Valid     bool
				Problems  []struct{ Code string }
				ModelYear *int
			}
		}
		a.Query(&got, decodeVinQuery, map[string]any{"vin": "1HGCM82643A004352"})
		d := got.DecodeVin
		if d.Valid || len(d.Problems) != 1 || d.Problems[0].Code != "CHECK_DIGIT" || d.ModelYear == nil || *d.ModelYear != 2003 {
			t.Errorf("got %+v", d)
		}
	})
}
