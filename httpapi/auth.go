package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
	"golang.org/x/crypto/bcrypt"
)

// Routes is the HTTP handler of rtsp2hls, made by Handler (every route)
// or AdminHandler (the admin routes alone). Update swaps its options
// (users, walls, token secret, origins...) while it serves: requests
// under way finish with the options they started with.
type Routes struct {
	cams   Cameras
	admin  bool // AdminHandler: the admin routes, without login
	verify *verifier
	now    func() time.Time // the clock of view tokens; time.Now
	cur    atomic.Pointer[site]
}

// site is what Routes serves with one set of Options.
type site struct {
	users   map[string]config.User
	secret  []byte // the token secret; nil when view links are off
	headers securityHeaders
	cors    corsPolicy
	routes  http.Handler
}

// Handler returns the routes of rtsp2hls (see routes for the list), with
// their access rules:
//
//   - Without Options.Users everything is open, admin routes included.
//   - With users, every route but /healthz needs a user (HTTP Basic) or,
//     for one camera's page, HLS files and API record and the assets, a
//     valid view token (?token=, see SignViewToken). A user sees only the
//     cameras of its list (config.User.MayWatch): others are 404 like
//     cameras that do not exist, and left out of lists and walls.
//   - Admin routes (API writes, /metrics) need an admin user; with
//     Options.AdminListen they are not here at all, but on AdminHandler.
//
// Every answer carries the security headers of headers.go, and the CORS
// headers of Options.AllowOrigins.
func Handler(cams Cameras, o Options) *Routes {
	h := &Routes{cams: cams, verify: newVerifier(), now: time.Now}
	h.Update(o)
	return h
}

// AdminHandler returns the admin routes (API writes, /metrics,
// /api/v1/server, /healthz), served without login: it is for the
// listener of Options.AdminListen, which is to be bound to a private
// address.
func AdminHandler(cams Cameras, o Options) *Routes {
	h := &Routes{cams: cams, admin: true, verify: newVerifier(), now: time.Now}
	h.Update(o)
	return h
}

// Update makes h serve with o from now on, as after a config reload.
func (h *Routes) Update(o Options) {
	s := &site{
		headers: newSecurityHeaders(o.FrameAncestors),
		cors:    newCORS(o.AllowOrigins),
	}
	if o.TokenSecret != "" {
		s.secret = []byte(o.TokenSecret)
	}
	if len(o.Users) > 0 && !h.admin {
		s.users = make(map[string]config.User, len(o.Users))
		for _, u := range o.Users {
			s.users[u.Name] = u
		}
	}
	if h.admin {
		s.routes = adminRoutes(h.cams, o)
	} else {
		s.routes = routes(h.cams, o)
	}
	h.cur.Store(s)
}

func (h *Routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.cur.Load()
	s.headers.set(w.Header(), r.URL.Path)
	if s.cors.handle(w, r) {
		return
	}
	v, ok := h.authenticate(w, r, s)
	if !ok {
		return
	}
	if v != nil {
		r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, v))
	}
	s.routes.ServeHTTP(w, r)
}

// viewer is who makes a request, once authenticated.
type viewer struct {
	all    bool         // may watch every camera: no users, or the admin listener
	admin  bool         // may use the admin routes
	user   *config.User // the user logged in, if any
	camera string       // the camera of the view token, if any
	token  string       // the view token that authorized the request
}

type viewerKey struct{}

var (
	openViewer  = &viewer{all: true, admin: true}
	adminViewer = &viewer{all: true, admin: true}
)

// viewerOf returns the viewer of r, nil for one not authenticated (only
// /healthz is served to those).
func viewerOf(r *http.Request) *viewer {
	v, _ := r.Context().Value(viewerKey{}).(*viewer)
	return v
}

// tokenOrEmpty returns the view token that authorized v, "" for none.
func (v *viewer) tokenOrEmpty() string {
	if v == nil {
		return ""
	}
	return v.token
}

// mayWatch reports whether v may watch the camera called name (or
// NAME/sub, its substream).
func (v *viewer) mayWatch(name string) bool {
	switch {
	case v == nil:
		return false
	case v.all:
		return true
	case v.token != "":
		cam, _, _ := strings.Cut(name, "/")
		return cam == v.camera
	case v.user != nil:
		return v.user.MayWatch(name)
	}
	return false
}

// mayWatch reports whether the viewer of r may watch the camera called
// name; the routes answer 404 "no such camera" when not, as for a camera
// that does not exist.
func mayWatch(r *http.Request, name string) bool {
	return viewerOf(r).mayWatch(name)
}

// visibleStatuses returns the cameras of sts the viewer of r may watch.
func visibleStatuses(r *http.Request, sts []camera.Status) []camera.Status {
	v := viewerOf(r)
	if v != nil && v.all {
		return sts
	}
	out := make([]camera.Status, 0, len(sts))
	for _, st := range sts {
		if v.mayWatch(st.Name) {
			out = append(out, st)
		}
	}
	return out
}

// visibleWall returns w with only the cameras the viewer of r may watch;
// false when that leaves none (the wall is then hidden from the viewer).
func visibleWall(r *http.Request, w wallJSON) (wallJSON, bool) {
	v := viewerOf(r)
	if v != nil && v.all {
		return w, true
	}
	cams := make([]string, 0, len(w.Cameras))
	for _, c := range w.Cameras {
		if v.mayWatch(c) {
			cams = append(cams, c)
		}
	}
	if len(cams) == 0 {
		return wallJSON{}, false
	}
	w.Cameras = cams
	return w, true
}

// mayViewWall reports whether the viewer of r may see wall w: whether it
// may watch any of its cameras.
func mayViewWall(r *http.Request, w wallJSON) bool {
	_, ok := visibleWall(r, w)
	return ok
}

// visibleWalls returns the walls the viewer of r may see, each with only
// the cameras it may watch.
func visibleWalls(r *http.Request, walls []wallJSON) []wallJSON {
	out := make([]wallJSON, 0, len(walls))
	for _, w := range walls {
		if w, ok := visibleWall(r, w); ok {
			out = append(out, w)
		}
	}
	return out
}

// requireAdmin answers 403 to a viewer who is not an admin.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := viewerOf(r); v == nil || !v.admin {
			writeJSON(w, http.StatusForbidden, apiError{Error: "this needs an admin user"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// realm is the WWW-Authenticate challenge: browsers ask for a user and
// password, then send them with every request to the server, the pages'
// own fetches and hls.js's requests included.
const realm = `Basic realm="rtsp2hls", charset="UTF-8"`

// authenticate returns the viewer of r, or answers r itself (401, 503)
// and returns false. A nil viewer with true is a request for a route open
// to all (/healthz).
func (h *Routes) authenticate(w http.ResponseWriter, r *http.Request, s *site) (*viewer, bool) {
	switch {
	case h.admin:
		return adminViewer, true
	case len(s.users) == 0:
		return openViewer, true
	case r.URL.Path == "/healthz":
		return nil, true
	}
	msg := "log in to see this"
	if tok := queryToken(r.URL.RawQuery); tok != "" {
		cam, _, err := VerifyViewToken(s.secret, tok, h.now())
		switch {
		case err == nil && tokenRoute(r):
			return &viewer{camera: cam, token: tok}, true
		case err == nil:
			msg = "a view link opens only its camera's page"
		case errors.Is(err, ErrTokenExpired):
			msg = "this view link has expired"
		default:
			msg = "this view link is not valid"
		}
	}
	if name, password, ok := r.BasicAuth(); ok {
		u, known := s.users[name]
		hash := noSuchUserHash
		if known {
			hash = u.PasswordHash
		}
		good, err := h.verify.check(r.Context(), name, password, hash)
		if err != nil {
			if r.Context().Err() == nil {
				w.Header().Set("Retry-After", "1")
				authError(w, r, http.StatusServiceUnavailable, "too many logins at once, try again")
			}
			return nil, false
		}
		if good && known {
			return &viewer{user: &u, admin: u.Admin}, true
		}
		msg = "wrong user or password"
	}
	w.Header().Set("WWW-Authenticate", realm)
	authError(w, r, http.StatusUnauthorized, msg)
	return nil, false
}

// tokenRoute reports whether a view token may open r's route: its
// camera's page and HLS files (/cams/...), its API record
// (/api/v1/cameras/NAME) and the assets. Which camera is checked by the
// route (mayWatch).
func tokenRoute(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/cams/") || strings.HasPrefix(p, "/assets/") {
		return true
	}
	name, ok := strings.CutPrefix(p, "/api/v1/cameras/")
	return ok && name != "" && !strings.Contains(name, "/")
}

// authError answers a refused request: JSON under /api/, text elsewhere.
// The message never holds what the client sent.
func authError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, code, apiError{Error: msg})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, code)
}

// noSuchUserHash is checked against the password of a user that does not
// exist, so that such a login costs what a wrong password does and does
// not tell which users exist. Whatever it matches, the login fails.
const noSuchUserHash = "$2a$10$n5e//rHCjIiG2etuqDw9AeWb3BliOrJQ2gVhJRL6PybpIAgPuCXLa"

// Password checks. bcrypt takes 50-100 ms of CPU by design, and LL-HLS
// players make several requests a second, each with the user and
// password: a verified login is remembered for a while, keyed by a salted
// SHA-256 of the user and password (the password itself is not kept).
// Failed logins are remembered briefly too, and at most bcryptSlots checks
// run at once, so that a flood of wrong passwords costs a core or two, not
// the server.
const (
	okTTL       = 10 * time.Minute
	failTTL     = 30 * time.Second
	maxOK       = 1024 // remembered logins
	maxFailed   = 4096 // remembered failures
	bcryptSlots = 2
	bcryptWait  = 10 * time.Second // longest wait for a slot; then 503
)

var errBusy = errors.New("too many password checks at once")

type verifier struct {
	compare func(hash, password []byte) error // bcrypt.CompareHashAndPassword
	now     func() time.Time
	salt    [32]byte
	slots   chan struct{}
	wait    time.Duration // longest wait for a slot (bcryptWait)

	mu       sync.Mutex
	ok       map[[32]byte]checked
	failed   map[[32]byte]checked
	inflight map[[32]byte]chan struct{}
}

// checked is the outcome of one check, valid until until for the hash it
// was made against (a reload may change the user's password).
type checked struct {
	hash  string
	until time.Time
}

func newVerifier() *verifier {
	v := &verifier{
		compare:  bcrypt.CompareHashAndPassword,
		now:      time.Now,
		slots:    make(chan struct{}, bcryptSlots),
		wait:     bcryptWait,
		ok:       map[[32]byte]checked{},
		failed:   map[[32]byte]checked{},
		inflight: map[[32]byte]chan struct{}{},
	}
	rand.Read(v.salt[:]) //nolint:errcheck // crypto/rand.Read does not fail
	return v
}

func (v *verifier) key(name, password string) [32]byte {
	h := sha256.New()
	h.Write(v.salt[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	h.Write([]byte(password))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// check reports whether password matches hash, the bcrypt hash of user
// name's password. Concurrent checks of the same login share one bcrypt.
// The error is errBusy, or ctx's, when no check could be made.
func (v *verifier) check(ctx context.Context, name, password, hash string) (bool, error) {
	k := v.key(name, password)
	var done chan struct{}
	for {
		v.mu.Lock()
		now := v.now()
		if c, ok := v.ok[k]; ok && now.Before(c.until) && sameHash(c.hash, hash) {
			v.mu.Unlock()
			return true, nil
		}
		if c, ok := v.failed[k]; ok && now.Before(c.until) && sameHash(c.hash, hash) {
			v.mu.Unlock()
			return false, nil
		}
		wait := v.inflight[k]
		if wait == nil {
			done = make(chan struct{})
			v.inflight[k] = done
			v.mu.Unlock()
			break
		}
		v.mu.Unlock()
		select {
		case <-wait: // the same login was checked: look again
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	defer func() {
		v.mu.Lock()
		delete(v.inflight, k)
		v.mu.Unlock()
		close(done)
	}()

	timer := time.NewTimer(v.wait)
	defer timer.Stop()
	select {
	case v.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-timer.C:
		return false, errBusy
	}
	err := v.compare([]byte(hash), []byte(password))
	<-v.slots

	good := err == nil
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if good {
		remember(v.ok, maxOK, k, checked{hash, now.Add(okTTL)}, now)
	} else {
		remember(v.failed, maxFailed, k, checked{hash, now.Add(failTTL)}, now)
	}
	return good, nil
}

func sameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// remember puts c in m, making room first when m is full: the expired
// entries go, and if that is not enough, a quarter of the others.
func remember(m map[[32]byte]checked, max int, k [32]byte, c checked, now time.Time) {
	if len(m) >= max {
		for key, e := range m {
			if !now.Before(e.until) {
				delete(m, key)
			}
		}
		for key := range m {
			if len(m) < max*3/4 {
				break
			}
			delete(m, key)
		}
	}
	m[k] = c
}
