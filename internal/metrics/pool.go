package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports a pgx pool's statistics under the names
// Prometheus' database/sql collector uses (go_sql_*), so dashboards built
// on those keep working.
type poolCollector struct {
	pool *pgxpool.Pool

	maxOpen, open, inUse, idle, waitCount, waitDuration, idleClosed, lifetimeClosed *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool, name string) *poolCollector {
	labels := prometheus.Labels{"db_name": name}
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+metric, help, nil, labels)
	}
	return &poolCollector{
		pool:           pool,
		maxOpen:        desc("max_open_connections", "Maximum number of open connections to the database."),
		open:           desc("open_connections", "The number of established connections both in use and idle."),
		inUse:          desc("in_use_connections", "The number of connections currently in use."),
		idle:           desc("idle_connections", "The number of idle connections."),
		waitCount:      desc("wait_count_total", "The total number of connections waited for."),
		waitDuration:   desc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		idleClosed:     desc("max_idle_time_closed_total", "The total number of connections closed due to MaxConnIdleTime."),
		lifetimeClosed: desc("max_lifetime_closed_total", "The total number of connections closed due to MaxConnLifetime."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitDuration, c.idleClosed, c.lifetimeClosed} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxConns()))
	gauge(c.open, float64(s.TotalConns()))
	gauge(c.inUse, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	counter(c.waitCount, float64(s.EmptyAcquireCount()))
	counter(c.waitDuration, s.EmptyAcquireWaitTime().Seconds())
	counter(c.idleClosed, float64(s.MaxIdleDestroyCount()))
	counter(c.lifetimeClosed, float64(s.MaxLifetimeDestroyCount()))
}
