package segmenter

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// FirstFile is the name under which a Stream serves its first picture: a
// small fMP4 clip made of the video init segment and the part (or, without
// LL-HLS, the segment) that begins with the camera's latest keyframe. Its
// Content-Type carries the codecs, ready for MediaSource.addSourceBuffer.
//
// It is what lets a page show a picture before hls.js has even run: the
// camera page asks for it while hls.js (624 KB) is still being parsed, and
// one request gets what hls.js would fetch in four, one after another
// (multivariant and media playlists, init, part). The picture is the very
// keyframe hls.js starts from (see withStart), so when hls.js's video takes
// over, the viewer sees the same frame begin to move.
const FirstFile = "first.mp4"

// serveFirst answers FirstFile. Like a first playlist request it waits for
// a starting camera's first media, within the same bounds.
func (s *Stream) serveFirst(w http.ResponseWriter, r *http.Request) {
	wait := s.MaxWait()
	if d := time.Until(time.Unix(0, s.startUntil.Load())); d > wait {
		wait = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	mux, lost := s.muxer()
	if mux != nil && lost == nil {
		// The camera is away (its muxer is kept for its return): its last
		// keyframe would show a picture that is not live.
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "camera is offline")
		return
	}
	if mux == nil {
		if mux, lost = s.waitMuxer(ctx); mux == nil {
			if r.Context().Err() == nil {
				w.Header().Set("Retry-After", "1")
				httpError(w, http.StatusServiceUnavailable, "camera is not live")
			}
			return
		}
	}
	// Each file comes from the flights every viewer shares, so a crowd
	// opening the page at once costs the renders of one.
	get := func(name string) ([]byte, error) {
		f := s.flight(mux, name, "")
		select {
		case <-f.done:
		case <-lost:
			return nil, errFirstLost
		case <-ctx.Done():
			return nil, errFirstTimeout
		}
		if f.notFound || f.status != http.StatusOK {
			if !s.current(mux) {
				return nil, errFirstLost
			}
			return nil, errFirstMissing
		}
		return f.body, nil
	}
	codecs, initBody, keyBody, err := firstClip(get)
	switch {
	case err != nil && r.Context().Err() != nil:
		return // the client went away
	case err == errFirstMissing:
		httpError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", `video/mp4; codecs="`+codecs+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(initBody)+len(keyBody)))
	n1, _ := w.Write(initBody)
	n2, _ := w.Write(keyBody)
	s.bytesOut.Add(uint64(n1 + n2))
}

// firstClip finds the latest keyframe through the playlists and gets the
// files of the clip: the leading video stream's codecs, its init segment
// and the part (or segment) that begins with the keyframe.
func firstClip(get func(name string) ([]byte, error)) (codecs string, initBody, keyBody []byte, err error) {
	mv, err := get("index.m3u8")
	if err != nil {
		return "", nil, nil, err
	}
	media, codecs, ok := leadingVideo(mv)
	if !ok {
		return "", nil, nil, errFirstMissing
	}
	pl, err := get(media)
	if err != nil {
		return "", nil, nil, err
	}
	initName, keyName, ok := latestKeyframe(pl)
	if !ok {
		return "", nil, nil, errFirstMissing
	}
	if initBody, err = get(initName); err != nil {
		return "", nil, nil, err
	}
	if keyBody, err = get(keyName); err != nil {
		return "", nil, nil, err
	}
	return codecs, initBody, keyBody, nil
}

var (
	errFirstLost    = errors.New("camera restarted or went offline")
	errFirstTimeout = errors.New("timed out waiting for media")
	errFirstMissing = errors.New("no fMP4 video keyframe to show (MPEG-TS stream, or none yet)")
)

// leadingVideo reads a multivariant playlist: the media playlist of its
// first variant (the leading video stream) and that variant's video codecs
// (audio, when there is any, is a rendition of its own).
func leadingVideo(mv []byte) (media, codecs string, ok bool) {
	var pl playlist.Multivariant
	if err := pl.Unmarshal(mv); err != nil || len(pl.Variants) == 0 {
		return "", "", false
	}
	v := pl.Variants[0]
	var video []string
	for _, c := range v.Codecs {
		if isVideoCodec(c) {
			video = append(video, c)
		}
	}
	media = fileOf(v.URI)
	return media, strings.Join(video, ","), len(video) > 0 && validFileName(media)
}

func isVideoCodec(c string) bool {
	for _, p := range []string{"avc1.", "avc3.", "hvc1.", "hev1.", "av01.", "vp09."} {
		if strings.HasPrefix(c, p) {
			return true
		}
	}
	return false
}

// latestKeyframe reads a media playlist: its init segment, and the latest
// part marked INDEPENDENT (an LL-HLS part that begins with a keyframe) or,
// in a playlist without parts, its latest segment (which always begins
// with one).
func latestKeyframe(b []byte) (initName, keyName string, ok bool) {
	var pl playlist.Media
	if err := pl.Unmarshal(b); err != nil || pl.Map == nil {
		return "", "", false
	}
	var lastSegment string
	independent := func(parts []*playlist.MediaPart) {
		for _, p := range parts {
			if p.Independent {
				keyName = p.URI
			}
		}
	}
	for _, seg := range pl.Segments {
		if !seg.Gap {
			lastSegment = seg.URI
		}
		independent(seg.Parts)
	}
	independent(pl.Parts) // the segment being made
	if keyName == "" {
		keyName = lastSegment
	}
	initName, keyName = fileOf(pl.Map.URI), fileOf(keyName)
	return initName, keyName, validFileName(initName) && validFileName(keyName) &&
		strings.HasSuffix(initName, ".mp4") && strings.HasSuffix(keyName, ".mp4")
}

// fileOf strips a playlist URI to the file name Stream serves.
func fileOf(uri string) string {
	uri, _, _ = strings.Cut(uri, "?")
	if i := strings.LastIndexByte(uri, '/'); i >= 0 {
		uri = uri[i+1:]
	}
	return uri
}
