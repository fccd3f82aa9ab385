package seed

import (
	"fmt"
	"math"
)

// cityPlace is where a demo city is: its centre (WGS 84 degrees), the
// forward sortation area of a downtown postal code, and its area code.
type cityPlace struct {
	latitude, longitude float64
	fsa, areaCode       string
}

// cityPlaces are the demo cities' real centres and codes.
var cityPlaces = map[string]cityPlace{
	"Toronto":     {43.6532, -79.3832, "M5V", "416"},
	"Vancouver":   {49.2827, -123.1207, "V6B", "604"},
	"Montreal":    {45.5017, -73.5673, "H3B", "514"},
	"Calgary":     {51.0447, -114.0719, "T2P", "403"},
	"Edmonton":    {53.5461, -113.4938, "T5J", "780"},
	"Ottawa":      {45.4215, -75.6972, "K1P", "613"},
	"Winnipeg":    {49.8951, -97.1384, "R3C", "204"},
	"Quebec City": {46.8139, -71.2080, "G1R", "418"},
	"Hamilton":    {43.2557, -79.8711, "L8P", "905"},
	"Halifax":     {44.6488, -63.5752, "B3J", "902"},
	"Victoria":    {48.4284, -123.3656, "V8W", "250"},
	"Saskatoon":   {52.1332, -106.6700, "S7K", "306"},
}

// dealerContact are a demo dealer's location and contact details.
type dealerContact struct {
	latitude, longitude        float64
	postalCode, phone, website string
}

// postalLetters are the letters Canada Post uses in postal codes.
const postalLetters = "ABCEGHJKLMNPRSTVWXYZ"

// contactOf gives demo dealer d (an index into dealers) a lot a few
// kilometres from its city's centre, a postal code of that city, a phone
// number in the 555-01xx range kept for fiction, and a website under the
// reserved .example domain. Everything follows from d alone.
func contactOf(d int) dealerContact {
	spec := dealers[d]
	place := cityPlaces[spec.city]
	// Up to about 5 km north or south and east or west of the centre.
	north := float64((d*37)%11-5) * 0.009
	east := float64((d*53)%11-5) * 0.009 / math.Cos(place.latitude*math.Pi/180)
	round := func(x float64) float64 { return math.Round(x*1e5) / 1e5 }
	return dealerContact{
		latitude:   round(place.latitude + north),
		longitude:  round(place.longitude + east),
		postalCode: fmt.Sprintf("%s %d%c%d", place.fsa, d%10, postalLetters[(d*7)%len(postalLetters)], (d*3)%10),
		phone:      fmt.Sprintf("+1 %s 555 01%02d", place.areaCode, d%100),
		website:    "https://" + slug(spec.name) + ".example/",
	}
}
