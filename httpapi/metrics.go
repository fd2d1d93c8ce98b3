package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// Metrics are rtsp2hls's Prometheus metrics, in a registry of their own:
// the cameras' (read from Cameras.Statuses at each scrape, so cameras
// removed by a reload leave no series behind), the HTTP requests (counted
// by Instrument), the blocking requests of a BlockingLimiter, and the Go
// runtime's and the process's.
//
// Labels never carry a source, URL or path: a camera is its name (a
// substream NAME/sub) and a request its route, the ServeMux pattern.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// routes caches the series of each route and code, so that counting
	// a request is a map lookup without a lock; copied on write.
	routes  atomic.Pointer[map[routeKey]*routeSeries]
	routeMu sync.Mutex

	limiter atomic.Pointer[BlockingLimiter]
}

type routeKey struct {
	route string
	code  int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewMetrics returns the metrics of cams.
func NewMetrics(cams Cameras) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rtsp2hls_http_requests_total",
			Help: "HTTP requests answered, by route (the pattern that matched, \"none\" if none did) and status code (499: the client went away first).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rtsp2hls_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route; LL-HLS blocking playlist requests wait for the next part.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	m.routes.Store(&map[routeKey]*routeSeries{})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
		&cameraCollector{cams: cams},
		&limiterCollector{m: m},
	)
	return m
}

// Registry is where the metrics are, to add more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when asked for), for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		EnableOpenMetrics:   true,
	})
}

// ObserveLimiter exports the blocking requests in flight and turned away
// by l (Wrap does this).
func (m *Metrics) ObserveLimiter(l *BlockingLimiter) { m.limiter.Store(l) }

// Instrument counts and times the requests of next, by route and status.
// The route is the pattern of the ServeMux that served the request, as set
// on it (Go 1.23+) or passed by recordRoute.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, own := w.(*respWriter)
		if !own {
			rw = &respWriter{ResponseWriter: w}
		}
		start := time.Now()
		next.ServeHTTP(rw, r)
		s := m.series(rw.routeOf(r), rw.statusOf(r))
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())
	})
}

// series returns the series of route and code. There are few: routes are
// the mux's patterns, and codes those the handlers answer with.
func (m *Metrics) series(route string, code int) *routeSeries {
	k := routeKey{route, code}
	if s := (*m.routes.Load())[k]; s != nil {
		return s
	}
	m.routeMu.Lock()
	defer m.routeMu.Unlock()
	old := *m.routes.Load()
	if s := old[k]; s != nil {
		return s
	}
	s := &routeSeries{
		requests: m.requests.WithLabelValues(route, strconv.Itoa(code)),
		duration: m.duration.WithLabelValues(route),
	}
	routes := make(map[routeKey]*routeSeries, len(old)+1)
	for k, v := range old {
		routes[k] = v
	}
	routes[k] = s
	m.routes.Store(&routes)
	return s
}

// limiterCollector exports the BlockingLimiter given to ObserveLimiter.
type limiterCollector struct{ m *Metrics }

var (
	blockingInFlightDesc = prometheus.NewDesc("rtsp2hls_http_blocking_requests_in_flight",
		"LL-HLS blocking playlist requests in flight.", nil, nil)
	blockingClientsDesc = prometheus.NewDesc("rtsp2hls_http_blocking_clients",
		"Client addresses with LL-HLS blocking playlist requests in flight.", nil, nil)
	blockingRejectedDesc = prometheus.NewDesc("rtsp2hls_http_blocking_rejected_total",
		"LL-HLS blocking playlist requests answered 429, by the cap they were over (client or total).", []string{"cap"}, nil)
	blockingLimitDesc = prometheus.NewDesc("rtsp2hls_http_blocking_limit",
		"The caps on LL-HLS blocking playlist requests in flight (client or total; 0: none).", []string{"cap"}, nil)
)

func (c *limiterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- blockingInFlightDesc
	ch <- blockingClientsDesc
	ch <- blockingRejectedDesc
	ch <- blockingLimitDesc
}

func (c *limiterCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.m.limiter.Load()
	if l == nil {
		return
	}
	client, total := l.Rejected()
	caps := l.Limits()
	ch <- prometheus.MustNewConstMetric(blockingInFlightDesc, prometheus.GaugeValue, float64(l.InFlight()))
	ch <- prometheus.MustNewConstMetric(blockingClientsDesc, prometheus.GaugeValue, float64(l.Clients()))
	ch <- prometheus.MustNewConstMetric(blockingRejectedDesc, prometheus.CounterValue, float64(client), "client")
	ch <- prometheus.MustNewConstMetric(blockingRejectedDesc, prometheus.CounterValue, float64(total), "total")
	ch <- prometheus.MustNewConstMetric(blockingLimitDesc, prometheus.GaugeValue, float64(max(caps.BlockingPerClient, 0)), "client")
	ch <- prometheus.MustNewConstMetric(blockingLimitDesc, prometheus.GaugeValue, float64(max(caps.BlockingTotal, 0)), "total")
}

// cameraCollector exports each camera's status, read at scrape time.
type cameraCollector struct{ cams Cameras }

func cameraDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("rtsp2hls_camera_"+name, help, append([]string{"camera"}, labels...), nil)
}

var (
	camUpDesc            = cameraDesc("up", "1 while the camera is live (frames arriving), else 0.")
	camStateDesc         = cameraDesc("state", "1 for the camera's state (connecting, live, offline, idle), 0 for the others.", "state")
	camFramesDesc        = cameraDesc("frames_total", "Video frames received.")
	camBytesInDesc       = cameraDesc("bytes_in_total", "Bytes of media received from the camera.")
	camBytesOutDesc      = cameraDesc("bytes_out_total", "Bytes of the camera's HLS files served.")
	camBitrateInDesc     = cameraDesc("bitrate_in_bits_per_second", "Bits per second received from the camera, over the last seconds.")
	camBitrateOutDesc    = cameraDesc("bitrate_out_bits_per_second", "Bits per second of HLS served, over the last seconds.")
	camViewersDesc       = cameraDesc("viewers", "Clients that fetched the camera's playlist within the last 10 s.")
	camReconnectsDesc    = cameraDesc("reconnects_total", "Times the camera's connection was lost and tried again.")
	camMuxerRestartsDesc = cameraDesc("muxer_restarts_total", "Times the camera's HLS muxer was restarted (codec or resolution changes, losses).")
	camPacketsLostDesc   = cameraDesc("packets_lost_total", "RTP packets lost on the way from the camera.")
	camFPSDesc           = cameraDesc("fps", "Frames per second of the camera's video.")
	camUptimeDesc        = cameraDesc("uptime_seconds", "Time since the camera last went live; 0 while it is not.")
	camRunningDesc       = cameraDesc("running", "1 while the camera runs; 0 while an on-demand camera is stopped for lack of viewers.")

	camDescs = []*prometheus.Desc{
		camUpDesc, camStateDesc, camFramesDesc, camBytesInDesc, camBytesOutDesc,
		camBitrateInDesc, camBitrateOutDesc, camViewersDesc, camReconnectsDesc,
		camMuxerRestartsDesc, camPacketsLostDesc, camFPSDesc, camUptimeDesc, camRunningDesc,
	}
	camStates = []ingest.State{ingest.StateConnecting, ingest.StateLive, ingest.StateOffline, ingest.StateIdle}
)

func (c *cameraCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range camDescs {
		ch <- d
	}
}

func (c *cameraCollector) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, st := range c.cams.Statuses() {
		collectCamera(ch, st.Name, &st, seen)
		if st.Substream != nil {
			name := st.Substream.Name
			if name == "" {
				name = st.Name + "/sub"
			}
			collectCamera(ch, name, st.Substream, seen)
		}
	}
}

func collectCamera(ch chan<- prometheus.Metric, name string, st *camera.Status, seen map[string]bool) {
	if name == "" || seen[name] {
		return // a series twice would fail the whole scrape
	}
	seen[name] = true
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name)
	}
	gauge(camUpDesc, b2f(st.State == ingest.StateLive))
	known := false
	for _, s := range camStates {
		known = known || s == st.State
		gauge(camStateDesc, b2f(s == st.State), string(s))
	}
	if !known && st.State != "" {
		gauge(camStateDesc, 1, string(st.State))
	}
	counter(camFramesDesc, float64(st.Frames))
	counter(camBytesInDesc, float64(st.BytesIn))
	counter(camBytesOutDesc, float64(st.BytesOut))
	gauge(camBitrateInDesc, st.BitrateIn)
	gauge(camBitrateOutDesc, st.BitrateOut)
	gauge(camViewersDesc, float64(st.Viewers))
	counter(camReconnectsDesc, float64(st.Reconnects))
	counter(camMuxerRestartsDesc, float64(st.MuxerRestarts))
	counter(camPacketsLostDesc, float64(st.PacketsLost))
	gauge(camFPSDesc, st.FPS)
	gauge(camUptimeDesc, st.UptimeSeconds)
	gauge(camRunningDesc, b2f(st.Running || !st.OnDemand))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Wrap puts the middleware of this file and its neighbours around h (the
// routes of Handler), outermost first: the request log (when logRequests),
// the metrics (m, when not nil), then the cap on blocking requests (lim,
// when not nil). The cap thus comes before any check Handler makes (auth):
// a client turned away by that has its requests end at once, so they hold
// no place for long.
func Wrap(h http.Handler, m *Metrics, lim *BlockingLimiter, log *slog.Logger, logRequests bool) http.Handler {
	if lim != nil {
		h = lim.Limit(h)
		if m != nil {
			m.ObserveLimiter(lim)
		}
	}
	if m != nil {
		h = m.Instrument(h)
	}
	if logRequests {
		h = LogRequests(h, log)
	}
	return h
}
