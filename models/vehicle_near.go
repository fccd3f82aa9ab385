package models

import (
	"math"
	"strconv"

	"github.com/uptrace/bun"
)

// MaxRadiusKm is the largest radius a distance filter takes: about half
// the earth's circumference, so it reaches every place on it.
const MaxRadiusKm = 20000

// Check records every invalid coordinate of r in inv, naming each under
// field (such as "filter.near"): a latitude in [-90, 90], a longitude in
// [-180, 180], and a radius above zero and at most MaxRadiusKm.
func (r *GeoRadius) Check(field string, inv *Invalid) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(r.Latitude) || r.Latitude < -90 || r.Latitude > 90 {
		inv.Add(field+".latitude", "must be between -90 and 90")
	}
	if !finite(r.Longitude) || r.Longitude < -180 || r.Longitude > 180 {
		inv.Add(field+".longitude", "must be between -180 and 180")
	}
	if !finite(r.RadiusKm) || r.RadiusKm <= 0 || r.RadiusKm > MaxRadiusKm {
		inv.Add(field+".radiusKm", "must be above 0 and at most %d", MaxRadiusKm)
	}
}

// Point names the circle's centre exactly (the shortest text that parses
// back to the same numbers), for cursors ordered by distance from it.
func (r *GeoRadius) Point() string {
	return strconv.FormatFloat(r.Latitude, 'g', -1, 64) + "," + strconv.FormatFloat(r.Longitude, 'g', -1, 64)
}

// NearDealersSQL selects the ids of the dealers within a circle, with
// PostgreSQL's earthdistance: the GiST index on ll_to_earth(latitude,
// longitude) finds the dealers in the cube around the circle
// (earth_box), and earth_distance keeps those inside it. Its three
// placeholders are the latitude, longitude and radius in metres; the
// distance column is in kilometres.
func NearDealersSQL(lat, lon, radiusM string) string {
	return "SELECT d.id, " + EarthDistanceKmSQL(lat, lon) + " AS dist FROM dealers d" +
		" WHERE d.latitude IS NOT NULL" +
		" AND earth_box(ll_to_earth(" + lat + ", " + lon + "), " + radiusM + ") @> ll_to_earth(d.latitude, d.longitude)" +
		" AND earth_distance(ll_to_earth(" + lat + ", " + lon + "), ll_to_earth(d.latitude, d.longitude)) <= " + radiusM
}

// EarthDistanceKmSQL is the distance in kilometres from a point to the
// dealer aliased d, as earthdistance measures it (a sphere of radius
// earth(), 6,378.168 km: within 0.5% of the distance on the ellipsoid).
func EarthDistanceKmSQL(lat, lon string) string {
	return "earth_distance(ll_to_earth(" + lat + ", " + lon + "), ll_to_earth(d.latitude, d.longitude)) / 1000"
}

// nearArgs are the arguments of NearDealersSQL's placeholders.
func (r *GeoRadius) nearArgs() (lat, lon, radiusM float64) {
	return r.Latitude, r.Longitude, r.RadiusKm * 1000
}

// where keeps the rows (vehicles, or rollup groups) whose dealer, the
// column dealerID, is within the circle. The dealers are found once (an
// array of ids), then their rows through the dealer indexes.
func (r *GeoRadius) where(q *bun.SelectQuery, dealerID bun.Safe) *bun.SelectQuery {
	lat, lon, m := r.nearArgs()
	return q.Where("?3 = ANY(ARRAY(SELECT n.id FROM ("+NearDealersSQL("?0::float8", "?1::float8", "?2::float8")+") n))", lat, lon, m, dealerID)
}
