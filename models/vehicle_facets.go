package models

// MaxPriceBuckets is how many buckets a price histogram may have; a
// histogram that would need more asks the client to widen its buckets.
const MaxPriceBuckets = 50

// FacetPriceStep is the price step, in cents, of the facet rollups
// (vehicle_facet_rollup, vehicle_facet_total_rollup): a histogram whose
// bucket is a multiple of it is read there.
const FacetPriceStep = 50000

// FacetWidePriceStep is the wide price step, in cents, of the facet rollup
// of all dealers (vehicle_facet_total_rollup): a histogram whose bucket is
// a multiple of it reads those steps, a tenth as many as the narrow ones.
const FacetWidePriceStep = 500000

// PriceHistogram returns the vehicles' prices in buckets of bucketCents
// (read into s.PriceCounts by the planner): from the bucket of the lowest
// price to that of the highest, empty buckets between included, none when
// there are no vehicles. More than MaxPriceBuckets buckets, or a bucket
// below one cent, is BAD_USER_INPUT.
func (s *VehicleStats) PriceHistogram(bucketCents int64) ([]PriceBucket, error) {
	var inv Invalid
	if bucketCents < 1 {
		inv.Add("bucketCents", "must be at least 1")
		return nil, inv.Err()
	}
	if n, ok := s.PriceBuckets(bucketCents); ok && n > MaxPriceBuckets {
		return nil, tooManyBuckets(n, bucketCents)
	}
	counts := s.PriceCounts[bucketCents]
	if len(counts) == 0 {
		return []PriceBucket{}, nil
	}
	first, last := int64(-1), int64(-1)
	for b := range counts {
		if first < 0 || b < first {
			first = b
		}
		if b > last {
			last = b
		}
	}
	if n := last - first + 1; n > MaxPriceBuckets {
		return nil, tooManyBuckets(n, bucketCents)
	}
	out := make([]PriceBucket, 0, last-first+1)
	for b := first; b <= last; b++ {
		out = append(out, PriceBucket{MinCents: b * bucketCents, MaxCents: (b + 1) * bucketCents, Count: counts[b]})
	}
	return out, nil
}

// PriceBuckets returns how many buckets of bucketCents (at least 1) the
// prices span, from the bucket of the cheapest to that of the dearest,
// when s knows them (ComputeVehicleStats).
func (s *VehicleStats) PriceBuckets(bucketCents int64) (n int64, known bool) {
	if s.MinPriceCents == nil || s.MaxPriceCents == nil {
		return 0, false
	}
	return *s.MaxPriceCents/bucketCents - *s.MinPriceCents/bucketCents + 1, true
}

func tooManyBuckets(n, bucketCents int64) error {
	var inv Invalid
	inv.Add("bucketCents", "makes %d buckets for these prices, more than %d: widen bucketCents (to at least %d)",
		n, MaxPriceBuckets, (n*bucketCents+MaxPriceBuckets-1)/(MaxPriceBuckets-1))
	return inv.Err()
}
