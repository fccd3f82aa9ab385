package seed

import (
	"strings"
	"testing"
)

// Every catalog model has a listing spec whose trims and drivetrains the
// API accepts.
func TestEveryModelHasAListingSpec(t *testing.T) {
	for mi, mk := range catalog {
		for di, md := range mk.models {
			s, ok := listingSpecs[mk.name+"/"+md.name]
			if !ok {
				t.Fatalf("%s %s has no listing spec", mk.name, md.name)
			}
			for _, trim := range s.trims {
				if trim == "" || len(trim) > 100 || strings.ContainsAny(trim, "\t\n\\\"{},") {
					t.Errorf("%s %s: trim %q", mk.name, md.name, trim)
				}
			}
			if len(listing.drives[mi][di]) == 0 {
				t.Errorf("%s %s: no drivetrain", mk.name, md.name)
			}
		}
	}
	if len(listingSpecs) != countModels() {
		t.Errorf("%d listing specs for %d models: some name no catalog model", len(listingSpecs), countModels())
	}
}

func countModels() int {
	n := 0
	for _, mk := range catalog {
		n += len(mk.models)
	}
	return n
}
