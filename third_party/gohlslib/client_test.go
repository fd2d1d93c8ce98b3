package gohlslib

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asticode/go-astits"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/flac"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/stretchr/testify/require"

	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
)

var serverCert = []byte(`-----BEGIN CERTIFICATE-----
MIIDazCCAlOgAwIBAgIUXw1hEC3LFpTsllv7D3ARJyEq7sIwDQYJKoZIhvcNAQEL
BQAwRTELMAkGA1UEBhMCQVUxEzARBgNVBAgMClNvbWUtU3RhdGUxITAfBgNVBAoM
GEludGVybmV0IFdpZGdpdHMgUHR5IEx0ZDAeFw0yMDEyMTMxNzQ0NThaFw0zMDEy
MTExNzQ0NThaMEUxCzAJBgNVBAYTAkFVMRMwEQYDVQQIDApTb21lLVN0YXRlMSEw
HwYDVQQKDBhJbnRlcm5ldCBXaWRnaXRzIFB0eSBMdGQwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQDG8DyyS51810GsGwgWr5rjJK7OE1kTTLSNEEKax8Bj
zOyiaz8rA2JGl2VUEpi2UjDr9Cm7nd+YIEVs91IIBOb7LGqObBh1kGF3u5aZxLkv
NJE+HrLVvUhaDobK2NU+Wibqc/EI3DfUkt1rSINvv9flwTFu1qHeuLWhoySzDKEp
OzYxpFhwjVSokZIjT4Red3OtFz7gl2E6OAWe2qoh5CwLYVdMWtKR0Xuw3BkDPk9I
qkQKx3fqv97LPEzhyZYjDT5WvGrgZ1WDAN3booxXF3oA1H3GHQc4m/vcLatOtb8e
nI59gMQLEbnp08cl873bAuNuM95EZieXTHNbwUnq5iybAgMBAAGjUzBRMB0GA1Ud
DgQWBBQBKhJh8eWu0a4au9X/2fKhkFX2vjAfBgNVHSMEGDAWgBQBKhJh8eWu0a4a
u9X/2fKhkFX2vjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBj
3aCW0YPKukYgVK9cwN0IbVy/D0C1UPT4nupJcy/E0iC7MXPZ9D/SZxYQoAkdptdO
xfI+RXkpQZLdODNx9uvV+cHyZHZyjtE5ENu/i5Rer2cWI/mSLZm5lUQyx+0KZ2Yu
tEI1bsebDK30msa8QSTn0WidW9XhFnl3gRi4wRdimcQapOWYVs7ih+nAlSvng7NI
XpAyRs8PIEbpDDBMWnldrX4TP6EWYUi49gCp8OUDRREKX3l6Ls1vZ02F34yHIt/7
7IV/XSKG096bhW+icKBWV0IpcEsgTzPK1J1hMxgjhzIMxGboAeUU+kidthOob6Sd
XQxaORfgM//NzX9LhUPk
-----END CERTIFICATE-----
`)

var serverKey = []byte(`-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAxvA8skudfNdBrBsIFq+a4ySuzhNZE0y0jRBCmsfAY8zsoms/
KwNiRpdlVBKYtlIw6/Qpu53fmCBFbPdSCATm+yxqjmwYdZBhd7uWmcS5LzSRPh6y
1b1IWg6GytjVPlom6nPxCNw31JLda0iDb7/X5cExbtah3ri1oaMkswyhKTs2MaRY
cI1UqJGSI0+EXndzrRc+4JdhOjgFntqqIeQsC2FXTFrSkdF7sNwZAz5PSKpECsd3
6r/eyzxM4cmWIw0+Vrxq4GdVgwDd26KMVxd6ANR9xh0HOJv73C2rTrW/HpyOfYDE
CxG56dPHJfO92wLjbjPeRGYnl0xzW8FJ6uYsmwIDAQABAoIBACi0BKcyQ3HElSJC
kaAao+Uvnzh4yvPg8Nwf5JDIp/uDdTMyIEWLtrLczRWrjGVZYbsVROinP5VfnPTT
kYwkfKINj2u+gC6lsNuPnRuvHXikF8eO/mYvCTur1zZvsQnF5kp4GGwIqr+qoPUP
bB0UMndG1PdpoMryHe+JcrvTrLHDmCeH10TqOwMsQMLHYLkowvxwJWsmTY7/Qr5S
Wm3PPpOcW2i0uyPVuyuv4yD1368fqnqJ8QFsQp1K6QtYsNnJ71Hut1/IoxK/e6hj
5Z+byKtHVtmcLnABuoOT7BhleJNFBksX9sh83jid4tMBgci+zXNeGmgqo2EmaWAb
agQslkECgYEA8B1rzjOHVQx/vwSzDa4XOrpoHQRfyElrGNz9JVBvnoC7AorezBXQ
M9WTHQIFTGMjzD8pb+YJGi3gj93VN51r0SmJRxBaBRh1ZZI9kFiFzngYev8POgD3
ygmlS3kTHCNxCK/CJkB+/jMBgtPj5ygDpCWVcTSuWlQFphePkW7jaaECgYEA1Blz
ulqgAyJHZaqgcbcCsI2q6m527hVr9pjzNjIVmkwu38yS9RTCgdlbEVVDnS0hoifl
+jVMEGXjF3xjyMvL50BKbQUH+KAa+V4n1WGlnZOxX9TMny8MBjEuSX2+362vQ3BX
4vOlX00gvoc+sY+lrzvfx/OdPCHQGVYzoKCxhLsCgYA07HcviuIAV/HsO2/vyvhp
xF5gTu+BqNUHNOZDDDid+ge+Jre2yfQLCL8VPLXIQW3Jff53IH/PGl+NtjphuLvj
7UDJvgvpZZuymIojP6+2c3gJ3CASC9aR3JBnUzdoE1O9s2eaoMqc4scpe+SWtZYf
3vzSZ+cqF6zrD/Rf/M35IQKBgHTU4E6ShPm09CcoaeC5sp2WK8OevZw/6IyZi78a
r5Oiy18zzO97U/k6xVMy6F+38ILl/2Rn31JZDVJujniY6eSkIVsUHmPxrWoXV1HO
y++U32uuSFiXDcSLarfIsE992MEJLSAynbF1Rsgsr3gXbGiuToJRyxbIeVy7gwzD
94TpAoGAY4/PejWQj9psZfAhyk5dRGra++gYRQ/gK1IIc1g+Dd2/BxbT/RHr05GK
6vwrfjsoRyMWteC1SsNs/CurjfQ/jqCfHNP5XPvxgd5Ec8sRJIiV7V5RTuWJsPu1
+3K6cnKEyg+0ekYmLertRFIY6SwWmY1fyKgTvxudMcsBY7dC4xs=
-----END RSA PRIVATE KEY-----
`)

const (
	testHeaderKey   = "X-Test-Header"
	testHeaderValue = "test-value"
)

func writeTempFile(byts []byte) (string, error) {
	tmpf, err := os.CreateTemp(os.TempDir(), "rtsp-")
	if err != nil {
		return "", err
	}
	defer tmpf.Close()

	_, err = tmpf.Write(byts)
	if err != nil {
		return "", err
	}

	return tmpf.Name(), nil
}

func mustMarshalAV1(tu [][]byte) []byte {
	enc, err := av1.Bitstream(tu).Marshal()
	if err != nil {
		panic(err)
	}
	return enc
}

func mustMarshalAVCC(au [][]byte) []byte {
	enc, err := h264.AVCC(au).Marshal()
	if err != nil {
		panic(err)
	}
	return enc
}

type marshaler interface {
	Marshal(w io.WriteSeeker) error
}

func mp4ToWriter(i marshaler, w io.Writer) error {
	var buf seekablebuffer.Buffer
	err := i.Marshal(&buf)
	if err != nil {
		return err
	}

	_, err = w.Write(buf.Bytes())
	return err
}

func TestClient(t *testing.T) {
	createHTTPHandler := func(t *testing.T, variant string, content string, mode string) http.HandlerFunc {
		count := 0

		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.Equal(t, testHeaderValue, r.Header.Get(testHeaderKey))

			switch {
			case variant == "mpegts":
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:3\n" +
							"#EXT-X-ALLOW-CACHE:NO\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MEDIA-SEQUENCE:0\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:1,\n" +
							"segment1.ts?key=val\n" +
							"#EXTINF:1,\n" +
							"segment2.ts\n" +
							"#EXT-X-ENDLIST\n"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:3\n" +
							"#EXT-X-ALLOW-CACHE:NO\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MEDIA-SEQUENCE:0\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:1,\n" +
							"segment1.ts?key=val\n" +
							"#EXTINF:1,\n" +
							"segment2.ts\n" +
							"#EXTINF:1,\n" +
							"null.ts\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
					q, err := url.ParseQuery(r.URL.RawQuery)
					require.NoError(t, err)
					require.Equal(t, "val", q.Get("key"))
					w.Header().Set("Content-Type", `video/MP2T`)

					h264Track := &mpegts.Track{
						Codec: &tscodecs.H264{},
					}
					mpeg4audioTrack := &mpegts.Track{
						Codec: &tscodecs.MPEG4Audio{
							Config: mpeg4audio.AudioSpecificConfig{
								Type:          2,
								SampleRate:    44100,
								ChannelConfig: 2,
								ChannelCount:  2, //nolint:staticcheck
							},
						},
					}
					mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track, mpeg4audioTrack}}
					err = mw.Initialize()
					require.NoError(t, err)

					err = mw.WriteH264(
						h264Track,
						90000,      // +1 sec
						8589844592, // -1 sec
						[][]byte{
							{7, 1, 2, 3}, // SPS
							{8},          // PPS
							{5},          // IDR
						},
					)
					require.NoError(t, err)

					err = mw.WriteMPEG4Audio(
						mpeg4audioTrack,
						8589844592,
						[][]byte{{1, 2, 3, 4}},
					)
					require.NoError(t, err)

					err = mw.WriteH264(
						h264Track,
						90000+90000/30,
						8589844592+90000/30,
						[][]byte{
							{1, 4, 5, 6},
						},
					)
					require.NoError(t, err)

					err = mw.WriteMPEG4Audio(
						mpeg4audioTrack,
						8589844592+90000/30,
						[][]byte{{5, 6, 7, 8}},
					)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment2.ts":
					q, err := url.ParseQuery(r.URL.RawQuery)
					require.NoError(t, err)
					require.Equal(t, "", q.Get("key"))
					w.Header().Set("Content-Type", `video/MP2T`)

					h264Track := &mpegts.Track{
						Codec: &tscodecs.H264{},
					}
					mpeg4audioTrack := &mpegts.Track{
						Codec: &tscodecs.MPEG4Audio{
							Config: mpeg4audio.AudioSpecificConfig{
								Type:          2,
								SampleRate:    44100,
								ChannelConfig: 2,
								ChannelCount:  2, //nolint:staticcheck
							},
						},
					}
					mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track, mpeg4audioTrack}}
					err = mw.Initialize()
					require.NoError(t, err)

					err = mw.WriteH264(
						h264Track,
						8589844592+2*90000/30,
						8589844592+2*90000/30,
						[][]byte{
							{4},
						},
					)
					require.NoError(t, err)
				}

			case variant == "fmp4_singleplaylist":
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4?key=val\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment1.mp4?key=val\n" +
							"#EXTINF:2,\n" +
							"segment2.mp4\n" +
							"#EXT-X-ENDLIST\n"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4?key=val\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment1.mp4?key=val\n" +
							"#EXTINF:2,\n" +
							"segment2.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/init.mp4":
					q, err := url.ParseQuery(r.URL.RawQuery)
					require.NoError(t, err)
					require.Equal(t, "val", q.Get("key"))
					w.Header().Set("Content-Type", `video/mp4`)
					err = mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        99,
								TimeScale: 90000,
								Codec: &mp4codecs.H264{
									SPS: testH264SPS,
									PPS: testH264PPS,
								},
							},
							{
								ID:        98,
								TimeScale: 44100,
								Codec: &mp4codecs.MPEG4Audio{
									Config: testAACConfig,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment1.mp4":
					q, err := url.ParseQuery(r.URL.RawQuery)
					require.NoError(t, err)
					require.Equal(t, "val", q.Get("key"))
					w.Header().Set("Content-Type", `video/mp4`)

					err = mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       98,
								BaseTime: 44100 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration: 44100 / 30,
										Payload:  []byte{1, 2, 3, 4},
									},
									{
										Duration: 44100 / 30,
										Payload:  []byte{5, 6, 7, 8},
									},
								},
							},
							{
								ID:       99,
								BaseTime: 90000 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{7, 1, 2, 3}, // SPS
											{8},          // PPS
											{5},          // IDR
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{1, 4, 5, 6},
										}),
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment2.mp4":
					q, err := url.ParseQuery(r.URL.RawQuery)
					require.NoError(t, err)
					require.Equal(t, "", q.Get("key"))
					w.Header().Set("Content-Type", `video/mp4`)

					err = mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       99,
								BaseTime: 90000*6 + 2*90000/30,
								Samples: []*fmp4.Sample{
									{
										Duration:  90000 / 30,
										PTSOffset: 0,
										Payload: mustMarshalAVCC([][]byte{
											{4},
										}),
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)
				}

			case variant == "fmp4_multiplaylist" && content == "video+audio":
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
					w.Write([]byte("#EXTM3U\n" +
						"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\"," +
						"DEFAULT=YES,AUTOSELECT=YES,LANGUAGE=\"en\",URI=\"audio.m3u8\"\n" +
						"#EXT-X-STREAM-INF:BANDWIDTH=7680000,CODECS=\"avc1.640015,mp4a.40.5\",AUDIO=\"aac\"\n" +
						"video.m3u8\n"))

				case r.Method == http.MethodGet && r.URL.Path == "/video.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_video.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_video.mp4\n" +
							"#EXT-X-ENDLIST\n"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_video.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_video.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/audio.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio.mp4\n" +
							"#EXT-X-ENDLIST"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/init_video.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        1,
								TimeScale: 90000,
								Codec: &mp4codecs.H264{
									SPS: testH264SPS,
									PPS: testH264PPS,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/init_audio.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        1,
								TimeScale: 44100,
								Codec: &mp4codecs.MPEG4Audio{
									Config: testAACConfig,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment_video.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: 90000 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{7, 1, 2, 3}, // SPS
											{8},          // PPS
											{5},          // IDR
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{1, 4, 5, 6},
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 0,
										Payload: mustMarshalAVCC([][]byte{
											{4},
										}),
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment_audio.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: 44100 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration: 44100 / 30,
										Payload:  []byte{1, 2, 3, 4},
									},
									{
										Duration: 44100 / 30,
										Payload:  []byte{5, 6, 7, 8},
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				default:
					w.WriteHeader(http.StatusNotFound)
				}

			case variant == "fmp4_multiplaylist" && content == "video+multiaudio":
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
					w.Write([]byte("#EXTM3U\n" +
						"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\"," +
						"AUTOSELECT=YES,LANGUAGE=\"en\",URI=\"audio1.m3u8\"\n" +
						"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"German\"," +
						"DEFAULT=YES,AUTOSELECT=YES,LANGUAGE=\"de\",URI=\"audio2.m3u8\"\n" +
						"#EXT-X-STREAM-INF:BANDWIDTH=7680000,CODECS=\"avc1.640015,mp4a.40.5\",AUDIO=\"aac\"\n" +
						"video.m3u8\n"))

				case r.Method == http.MethodGet && r.URL.Path == "/video.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_video.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_video.mp4\n" +
							"#EXT-X-ENDLIST\n"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_video.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_video.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/audio1.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio1.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio1.mp4\n" +
							"#EXT-X-ENDLIST"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio1.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio1.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/audio2.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					if mode == "vod" {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-PLAYLIST-TYPE:VOD\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio2.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio2.mp4\n" +
							"#EXT-X-ENDLIST"))
					} else {
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init_audio2.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
							"#EXTINF:2,\n" +
							"segment_audio2.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))
					}

				case r.Method == http.MethodGet && r.URL.Path == "/init_video.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        1,
								TimeScale: 90000,
								Codec: &mp4codecs.H264{
									SPS: testH264SPS,
									PPS: testH264PPS,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && (r.URL.Path == "/init_audio1.mp4" || r.URL.Path == "/init_audio2.mp4"):
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        1,
								TimeScale: 44100,
								Codec: &mp4codecs.MPEG4Audio{
									Config: testAACConfig,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment_video.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: 90000 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{7, 1, 2, 3}, // SPS
											{8},          // PPS
											{5},          // IDR
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{1, 4, 5, 6},
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 0,
										Payload: mustMarshalAVCC([][]byte{
											{4},
										}),
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment_audio1.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: 44100 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration: 44100 / 30,
										Payload:  []byte{1, 2, 3, 4},
									},
									{
										Duration: 44100 / 30,
										Payload:  []byte{5, 6, 7, 8},
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/segment_audio2.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: 44100 * 6,
								Samples: []*fmp4.Sample{
									{
										Duration: 44100 / 30,
										Payload:  []byte{4, 3, 2, 1},
									},
									{
										Duration: 44100 / 30,
										Payload:  []byte{8, 7, 5, 4},
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				default:
					w.WriteHeader(http.StatusNotFound)
				}

			case variant == "lowlatency_singleplaylist":
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
					w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)

					switch count {
					case 0:
						q, err := url.ParseQuery(r.URL.RawQuery)
						require.NoError(t, err)
						require.Equal(t, "", q.Get("_HLS_skip"))
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:9\n" +
							"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=5.00000,CAN-SKIP-UNTIL=24.00000\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:00Z\n" +
							"#EXTINF:2,\n" +
							"segment.mp4\n" +
							"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=part1.mp4\n"))

					case 1:
						q, err := url.ParseQuery(r.URL.RawQuery)
						require.NoError(t, err)
						require.Equal(t, "YES", q.Get("_HLS_skip"))
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:9\n" +
							"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=5.00000,CAN-SKIP-UNTIL=24.00000\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:00Z\n" +
							"#EXTINF:2,\n" +
							"segment.mp4\n" +
							"#EXT-X-PART:DURATION=0.066666666,URI=\"part1.mp4\",INDEPENDENT=YES\n" +
							"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=part2.mp4\n"))

					case 2:
						q, err := url.ParseQuery(r.URL.RawQuery)
						require.NoError(t, err)
						require.Equal(t, "YES", q.Get("_HLS_skip"))
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:9\n" +
							"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=5.00000,CAN-SKIP-UNTIL=24.00000\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4\"\n" +
							"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:00Z\n" +
							"#EXTINF:2,\n" +
							"segment.mp4\n" +
							"#EXT-X-PART:DURATION=0.066666666,URI=\"part1.mp4\",INDEPENDENT=YES\n" +
							"#EXT-X-PART:DURATION=0.033333333,URI=\"part2.mp4\"\n" +
							"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=part3.mp4\n"))
					}
					count++

				case r.Method == http.MethodGet && r.URL.Path == "/init.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Init{
						Tracks: []*fmp4.InitTrack{
							{
								ID:        1,
								TimeScale: 90000,
								Codec: &mp4codecs.H264{
									SPS: testH264SPS,
									PPS: testH264PPS,
								},
							},
							{
								ID:        2,
								TimeScale: 44100,
								Codec: &mp4codecs.MPEG4Audio{
									Config: testAACConfig,
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/part1.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID: 1,
								Samples: []*fmp4.Sample{
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{7, 1, 2, 3}, // SPS
											{8},          // PPS
											{5},          // IDR
										}),
									},
									{
										Duration:  90000 / 30,
										PTSOffset: 90000 * 2,
										Payload: mustMarshalAVCC([][]byte{
											{1, 4, 5, 6},
										}),
									},
								},
							},
							{
								ID: 2,
								Samples: []*fmp4.Sample{
									{
										Duration: 44100 / 30,
										Payload:  []byte{1, 2, 3, 4},
									},
									{
										Duration: 44100 / 30,
										Payload:  []byte{5, 6, 7, 8},
									},
								},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/part2.mp4":
					w.Header().Set("Content-Type", `video/mp4`)
					err := mp4ToWriter(&fmp4.Part{
						Tracks: []*fmp4.PartTrack{
							{
								ID:       1,
								BaseTime: (90000 / 30) * 2,
								Samples: []*fmp4.Sample{{
									Duration: 90000 / 30,
									Payload: mustMarshalAVCC([][]byte{
										{4},
									}),
								}},
							},
						},
					}, w)
					require.NoError(t, err)

				case r.Method == http.MethodGet && r.URL.Path == "/part3.mp4":
					time.Sleep(1 * time.Second) // wait until client closes
				}
			}
		})
	}

	createHTTPServer := func(t *testing.T, encryption string, variant string, content string, mode string) *http.Server {
		httpServ := &http.Server{
			Handler: createHTTPHandler(t, variant, content, mode),
		}

		ln, err := net.Listen("tcp", "localhost:5780")
		require.NoError(t, err)

		if encryption == "tls" {
			go func() {
				serverCertFpath, err2 := writeTempFile(serverCert)
				if err2 != nil {
					panic(err2)
				}
				defer os.Remove(serverCertFpath)

				serverKeyFpath, err2 := writeTempFile(serverKey)
				if err2 != nil {
					panic(err2)
				}
				defer os.Remove(serverKeyFpath)

				httpServ.ServeTLS(ln, serverCertFpath, serverKeyFpath)
			}()
		} else {
			go httpServ.Serve(ln)
		}

		return httpServ
	}

	for _, encryption := range []string{"plain", "tls"} {
		for _, variant := range []string{
			"mpegts",
			"fmp4_singleplaylist",
			"fmp4_multiplaylist",
			"lowlatency_singleplaylist",
		} {
			for _, content := range []string{
				"video+audio",
				"video+multiaudio",
			} {
				for _, mode := range []string{"live", "vod"} {
					if (content == "video+multiaudio" && variant != "fmp4_multiplaylist") ||
						(variant == "lowlatency_singleplaylist" && mode == "vod") {
						continue
					}

					t.Run(encryption+"_"+variant+"_"+content+"_"+mode, func(t *testing.T) {
						httpServ := createHTTPServer(t, encryption, variant, content, mode)
						defer httpServ.Shutdown(context.Background())

						videoRecv := make(chan struct{})
						audioRecv := make(chan struct{})
						audio2Recv := make(chan struct{})

						videoCount := 0
						audioCount := 0
						audio2Count := 0

						prefix := "http"
						if encryption == "tls" {
							prefix = "https"
						}

						tr := &http.Transport{
							TLSClientConfig: &tls.Config{
								InsecureSkipVerify: true,
							},
						}
						defer tr.CloseIdleConnections()

						var c *Client
						c = &Client{
							URI:        prefix + "://localhost:5780/index.m3u8",
							HTTPClient: &http.Client{Transport: tr},
							OnRequest: func(r *http.Request) {
								r.Header.Set(testHeaderKey, testHeaderValue)
							},
							OnTracks: func(tracks []*Track) error {
								var sps []byte
								var pps []byte
								if variant != "mpegts" {
									sps = testH264SPS
									pps = testH264PPS
								}

								var audioClockRate int
								if variant != "mpegts" {
									audioClockRate = 44100
								} else {
									audioClockRate = 90000
								}

								switch content {
								case "video+audio":
									require.Equal(t, []*Track{
										{
											Codec: &codecs.H264{
												SPS: sps,
												PPS: pps,
											},
											ClockRate: 90000,
										},
										{
											Codec: &codecs.MPEG4Audio{
												Config: mpeg4audio.AudioSpecificConfig{
													Type:          2,
													SampleRate:    44100,
													ChannelConfig: 2,
													ChannelCount:  2, //nolint:staticcheck
												},
											},
											ClockRate: audioClockRate,
											Name: func() string {
												if variant == "fmp4_multiplaylist" {
													return "English"
												}
												return ""
											}(),
											Language: func() string {
												if variant == "fmp4_multiplaylist" {
													return "en"
												}
												return ""
											}(),
											IsDefault: (variant == "fmp4_multiplaylist"),
										},
									}, tracks)

								case "video+multiaudio":
									require.Equal(t, []*Track{
										{
											Codec: &codecs.H264{
												SPS: sps,
												PPS: pps,
											},
											ClockRate: 90000,
										},
										{
											Codec: &codecs.MPEG4Audio{
												Config: mpeg4audio.AudioSpecificConfig{
													Type:          2,
													SampleRate:    44100,
													ChannelConfig: 2,
													ChannelCount:  2, //nolint:staticcheck
												},
											},
											ClockRate: audioClockRate,
											Name:      "English",
											Language:  "en",
											IsDefault: false,
										},
										{
											Codec: &codecs.MPEG4Audio{
												Config: mpeg4audio.AudioSpecificConfig{
													Type:          2,
													SampleRate:    44100,
													ChannelConfig: 2,
													ChannelCount:  2, //nolint:staticcheck
												},
											},
											ClockRate: audioClockRate,
											Name:      "German",
											Language:  "de",
											IsDefault: true,
										},
									}, tracks)
								}

								c.OnDataH26x(tracks[0], func(pts int64, dts int64, au [][]byte) {
									switch videoCount {
									case 0:
										require.Equal(t, int64(0), dts)
										require.Equal(t, int64(2*90000), pts)
										require.Equal(t, [][]byte{
											{7, 1, 2, 3},
											{8},
											{5},
										}, au)
										ntp, ok := c.AbsoluteTime(tracks[0])
										require.Equal(t, true, ok)
										require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 0, time.UTC), ntp)

									case 1:
										require.Equal(t, int64(3000), dts)
										require.Equal(t, int64(2*90000+3000), pts)
										require.Equal(t, [][]byte{{1, 4, 5, 6}}, au)
										ntp, ok := c.AbsoluteTime(tracks[0])
										require.Equal(t, true, ok)
										require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 33333333, time.UTC), ntp)

									case 2:
										require.Equal(t, int64(6000), dts)
										require.Equal(t, int64(6000), pts)
										require.Equal(t, [][]byte{{4}}, au)
										ntp, ok := c.AbsoluteTime(tracks[0])
										require.Equal(t, true, ok)
										require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 66666666, time.UTC), ntp)
										close(videoRecv)
									}
									videoCount++
								})

								c.OnDataMPEG4Audio(tracks[1], func(pts int64, aus [][]byte) { //nolint:dupl
									switch audioCount {
									case 0:
										require.Equal(t, int64(0), pts)
										require.Equal(t, [][]byte{{1, 2, 3, 4}}, aus)
										ntp, ok := c.AbsoluteTime(tracks[1])
										require.Equal(t, true, ok)
										require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 0, time.UTC), ntp)

									case 1:
										require.Equal(t, int64(0.0333336*float64(tracks[1].ClockRate)), pts)
										require.Equal(t, [][]byte{{5, 6, 7, 8}}, aus)
										ntp, ok := c.AbsoluteTime(tracks[1])
										require.Equal(t, true, ok)
										require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 33333333, time.UTC), ntp)
										close(audioRecv)
									}
									audioCount++
								})

								if content == "video+multiaudio" {
									c.OnDataMPEG4Audio(tracks[2], func(pts int64, aus [][]byte) { //nolint:dupl
										switch audio2Count {
										case 0:
											require.Equal(t, int64(0), pts)
											require.Equal(t, [][]byte{{4, 3, 2, 1}}, aus)
											ntp, ok := c.AbsoluteTime(tracks[2])
											require.Equal(t, true, ok)
											require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 0, time.UTC), ntp)

										case 1:
											require.Equal(t, int64(0.0333336*float64(tracks[1].ClockRate)), pts)
											require.Equal(t, [][]byte{{8, 7, 5, 4}}, aus)
											ntp, ok := c.AbsoluteTime(tracks[2])
											require.Equal(t, true, ok)
											require.Equal(t, time.Date(2015, time.February, 5, 1, 2, 2, 33333333, time.UTC), ntp)
											close(audio2Recv)
										}
										audio2Count++
									})
								}

								return nil
							},
						}

						err := c.Start()
						require.NoError(t, err)

						<-videoRecv
						<-audioRecv

						if content == "video+multiaudio" {
							<-audio2Recv
						}

						if mode == "vod" {
							err = c.Wait2()
							require.Equal(t, ErrClientEOS, err)
						}

						c.Close()
					})
				}
			}
		}
	}
}

func TestClientCodecs(t *testing.T) {
	for _, ca := range []string{
		"h264",
		"h265",
		"av1",
		"vp9",
		"mpeg4audio",
		"opus",
		"flac",
	} {
		t.Run(ca, func(t *testing.T) {
			httpServ := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch {
					case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
						w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
						w.Write([]byte("#EXTM3U\n" +
							"#EXT-X-VERSION:7\n" +
							"#EXT-X-MEDIA-SEQUENCE:20\n" +
							"#EXT-X-INDEPENDENT-SEGMENTS\n" +
							"#EXT-X-TARGETDURATION:2\n" +
							"#EXT-X-MAP:URI=\"init.mp4\"\n" +
							"#EXTINF:2,\n" +
							"segment1.mp4\n" +
							"#EXTINF:2,\n" +
							"segment2.mp4\n" +
							"#EXTINF:2,\n" +
							"null.mp4\n"))

					case r.Method == http.MethodGet && r.URL.Path == "/init.mp4":
						w.Header().Set("Content-Type", `video/mp4`)

						switch ca {
						case "h264":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 90000,
										Codec: &mp4codecs.H264{
											SPS: testH264SPS,
											PPS: testH264PPS,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "h265":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 90000,
										Codec: &mp4codecs.H265{
											VPS: testH265VPS,
											SPS: testH265SPS,
											PPS: testH265PPS,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "av1":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 90000,
										Codec: &mp4codecs.AV1{
											SequenceHeader: testAV1SequenceHeader,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "vp9":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 90000,
										Codec: &mp4codecs.VP9{
											Width:             1920,
											Height:            804,
											Profile:           0,
											BitDepth:          8,
											ChromaSubsampling: 1,
											ColorRange:        false,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "mpeg4audio":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 44100,
										Codec: &mp4codecs.MPEG4Audio{
											Config: testAACConfig,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "opus":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 48000,
										Codec: &mp4codecs.Opus{
											ChannelCount: 2,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "flac":
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 44100,
										Codec: &mp4codecs.FLAC{
											StreamInfo: &flac.StreamInfo{
												MinBlockSize: 4096,
												MaxBlockSize: 4096,
												SampleRate:   44100,
												ChannelCount: 2,
												BitDepth:     16,
											},
										},
									},
								},
							}, w)
							require.NoError(t, err)
						}

					case r.Method == http.MethodGet && r.URL.Path == "/segment1.mp4":
						w.Header().Set("Content-Type", `video/mp4`)

						switch ca {
						case "h264":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: mustMarshalAVCC([][]byte{{5, 1}})},
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "h265":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: mustMarshalAVCC([][]byte{{0x26, 0x01, 0xaf, 0x08, 0x42, 0x23, 0x48, 0x8a, 0x43, 0xe2}})},
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "av1":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{{
											Payload: mustMarshalAV1([][]byte{{
												0x08, 0x00, 0x00, 0x00, 0x42, 0xa7, 0xbf, 0xe4, 0x60, 0x0d, 0x00, 0x40,
											}}),
										}},
									},
								},
							}, w)
							require.NoError(t, err)

						case "vp9":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: testVP9KeyFrame},
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "mpeg4audio":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: []byte{0x21, 0x10}},
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "opus":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: []byte{0xf8}},
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case "flac":
							err := mp4ToWriter(&fmp4.Part{
								Tracks: []*fmp4.PartTrack{
									{
										ID: 1,
										Samples: []*fmp4.Sample{
											{Payload: []byte{0x00, 0x01, 0x02, 0x03}},
										},
									},
								},
							}, w)
							require.NoError(t, err)
						}
					}
				}),
			}

			ln, err := net.Listen("tcp", "localhost:5780")
			require.NoError(t, err)
			defer ln.Close()

			go httpServ.Serve(ln)
			defer httpServ.Shutdown(context.Background())

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()

			recv := make(chan struct{})
			var c *Client

			c = &Client{
				URI: "http://localhost:5780/index.m3u8",
				OnTracks: func(tracks []*Track) error {
					switch ca {
					case "h264":
						require.Equal(t, []*Track{{
							Codec:     &codecs.H264{SPS: testH264SPS, PPS: testH264PPS},
							ClockRate: 90000,
						}}, tracks)
						c.OnDataH26x(tracks[0], func(_ int64, _ int64, _ [][]byte) {
							close(recv)
						})

					case "h265":
						require.Equal(t, []*Track{{
							Codec:     &codecs.H265{VPS: testH265VPS, SPS: testH265SPS, PPS: testH265PPS},
							ClockRate: 90000,
						}}, tracks)
						c.OnDataH26x(tracks[0], func(_ int64, _ int64, _ [][]byte) {
							close(recv)
						})

					case "av1":
						require.Equal(t, []*Track{{
							Codec:     &codecs.AV1{SequenceHeader: testAV1SequenceHeader},
							ClockRate: 90000,
						}}, tracks)
						c.OnDataAV1(tracks[0], func(_ int64, _ [][]byte) {
							close(recv)
						})

					case "vp9":
						require.Equal(t, []*Track{{
							Codec: &codecs.VP9{
								Width:             1920,
								Height:            804,
								Profile:           0,
								BitDepth:          8,
								ChromaSubsampling: 1,
								ColorRange:        false,
							},
							ClockRate: 90000,
						}}, tracks)
						c.OnDataVP9(tracks[0], func(_ int64, _ []byte) {
							close(recv)
						})

					case "mpeg4audio":
						require.Equal(t, []*Track{{
							Codec:     &codecs.MPEG4Audio{Config: testAACConfig},
							ClockRate: 44100,
						}}, tracks)
						c.OnDataMPEG4Audio(tracks[0], func(_ int64, _ [][]byte) {
							close(recv)
						})

					case "opus":
						require.Equal(t, []*Track{{
							Codec:     &codecs.Opus{ChannelCount: 2},
							ClockRate: 48000,
						}}, tracks)
						c.OnDataOpus(tracks[0], func(_ int64, _ [][]byte) {
							close(recv)
						})

					case "flac":
						require.Equal(t, []*Track{{
							Codec: &codecs.FLAC{StreamInfo: &flac.StreamInfo{
								MinBlockSize: 4096,
								MaxBlockSize: 4096,
								SampleRate:   44100,
								ChannelCount: 2,
								BitDepth:     16,
							}},
							ClockRate: 44100,
						}}, tracks)
						c.OnDataFLAC(tracks[0], func(_ int64, _ []byte) {
							close(recv)
						})
					}

					return nil
				},
			}

			err = c.Start()
			require.NoError(t, err)
			defer c.Close()

			<-recv
		})
	}
}

func TestClientKLVMPEGTS(t *testing.T) {
	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/stream.m3u8":
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n"))

			case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				klvTrack := &mpegts.Track{
					Codec: &tscodecs.KLV{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track, klvTrack}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					90000,
					90000,
					[][]byte{
						{7, 1, 2, 3}, // SPS
						{8},          // PPS
						{5},          // IDR
					},
				)
				require.NoError(t, err)

				err = mw.WriteKLV(
					klvTrack,
					90000,
					[]byte{0x06, 0x0e, 0x2b, 0x34},
				)
				require.NoError(t, err)
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	recv := make(chan struct{})

	var c *Client
	c = &Client{
		URI: "http://localhost:5780/stream.m3u8",
		OnTracks: func(tracks []*Track) error {
			require.Equal(t, 2, len(tracks))
			require.Equal(t, &codecs.H264{}, tracks[0].Codec)
			require.Equal(t, &codecs.KLV{Synchronous: false}, tracks[1].Codec)

			c.OnDataKLV(tracks[1], func(_ int64, data []byte) {
				require.Equal(t, []byte{0x06, 0x0e, 0x2b, 0x34}, data)
				select {
				case <-recv:
				default:
					close(recv)
				}
			})
			return nil
		},
	}

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-recv
}

func TestClientKLVSynchronousMPEGTS(t *testing.T) {
	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/stream.m3u8":
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n"))

			case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				klvTrack := &mpegts.Track{
					Codec: &tscodecs.KLV{Synchronous: true},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track, klvTrack}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					90000,
					90000,
					[][]byte{
						{7, 1, 2, 3}, // SPS
						{8},          // PPS
						{5},          // IDR
					},
				)
				require.NoError(t, err)

				err = mw.WriteKLV(
					klvTrack,
					90000,
					[]byte{0x06, 0x0e, 0x2b, 0x34},
				)
				require.NoError(t, err)
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	recv := make(chan struct{})

	var c *Client
	c = &Client{
		URI: "http://localhost:5780/stream.m3u8",
		OnTracks: func(tracks []*Track) error {
			require.Equal(t, 2, len(tracks))
			require.Equal(t, &codecs.KLV{Synchronous: true}, tracks[1].Codec)

			c.OnDataKLV(tracks[1], func(_ int64, data []byte) {
				require.Equal(t, []byte{0x06, 0x0e, 0x2b, 0x34}, data)
				select {
				case <-recv:
				default:
					close(recv)
				}
			})
			return nil
		},
	}

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-recv
}

func TestClientSleepInCallbackMPEGTS(t *testing.T) {
	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/stream.m3u8":
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n"))

			case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					90000,
					90000,
					[][]byte{
						{7, 1, 2, 3}, // SPS
						{8},          // PPS
						{5},          // IDR
					},
				)
				require.NoError(t, err)
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	recv := make(chan struct{})

	var c *Client
	c = &Client{
		URI: "http://localhost:5780/stream.m3u8",
		OnTracks: func(tracks []*Track) error {
			c.OnDataH26x(tracks[0], func(_, _ int64, _ [][]byte) {
				time.Sleep(100 * time.Millisecond)
				select {
				case <-recv:
				default:
					close(recv)
				}
			})
			return nil
		},
	}
	require.NoError(t, err)

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-recv
}

func TestClientSkipUnsupportedTracks(t *testing.T) {
	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/stream.m3u8" {
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:2\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n" +
					"#EXTINF:2,\n" +
					"segment1.ts\n"))
			} else if r.Method == http.MethodGet && r.URL.Path == "/segment1.ts" {
				w.Header().Set("Content-Type", `video/MP2T`)

				var buf bytes.Buffer
				mux := astits.NewMuxer(context.Background(), &buf)

				err := mux.AddElementaryStream(astits.PMTElementaryStream{
					ElementaryPID: 120,
					StreamType:    astits.StreamTypeH264Video,
				})
				require.NoError(t, err)

				err = mux.AddElementaryStream(astits.PMTElementaryStream{
					ElementaryPID: 121,
					StreamType:    astits.StreamTypeDIRACVideo,
				})
				require.NoError(t, err)

				mux.SetPCRPID(120)

				data, err := h264.AnnexB([][]byte{
					{7}, // SPS
					{8}, // PPS
					{5}, // IDR
				}).Marshal()
				require.NoError(t, err)

				_, err = mux.WriteData(&astits.MuxerData{
					PID: 120,
					AdaptationField: &astits.PacketAdaptationField{
						RandomAccessIndicator: true,
					},
					PES: &astits.PESData{
						Header: &astits.PESHeader{
							OptionalHeader: &astits.PESOptionalHeader{
								MarkerBits:      2,
								PTSDTSIndicator: astits.PTSDTSIndicatorOnlyPTS,
								PTS:             &astits.ClockReference{Base: 0},
							},
							StreamID: 222,
						},
						Data: data,
					},
				})
				require.NoError(t, err)

				_, err = mux.WriteData(&astits.MuxerData{
					PID: 121,
					AdaptationField: &astits.PacketAdaptationField{
						RandomAccessIndicator: true,
					},
					PES: &astits.PESData{
						Header: &astits.PESHeader{
							OptionalHeader: &astits.PESOptionalHeader{
								MarkerBits:      2,
								PTSDTSIndicator: astits.PTSDTSIndicatorOnlyPTS,
								PTS:             &astits.ClockReference{Base: 0},
							},
							StreamID: 222,
						},
						Data: []byte{1, 2, 3, 4},
					},
				})
				require.NoError(t, err)

				w.Write(buf.Bytes())
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	recv := make(chan struct{})

	var c *Client
	c = &Client{
		URI:        "http://localhost:5780/stream.m3u8",
		HTTPClient: &http.Client{Transport: tr},
		OnTracks: func(tracks []*Track) error {
			require.Equal(t, []*Track{{
				Codec:     &codecs.H264{},
				ClockRate: 90000,
			}}, tracks)

			c.OnDataH26x(tracks[0], func(_, _ int64, au [][]byte) {
				select {
				case <-recv:
					return
				default:
				}
				require.Equal(t, [][]byte{{7}, {8}, {5}}, au)
				close(recv)
			})
			return nil
		},
	}
	require.NoError(t, err)

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-recv

	err = c.Wait2()
	require.EqualError(t, err, "next segment not found or not ready yet")
}

func TestClientErrors(t *testing.T) {
	for _, ca := range []string{
		"invalid sequence id",
		"multiple tracks in rendition",
	} {
		t.Run(ca, func(t *testing.T) {
			first := true

			httpServ := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch ca {
					case "invalid sequence id":
						switch {
						case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							if first {
								first = false
								w.Write([]byte("#EXTM3U\n" +
									"#EXT-X-VERSION:3\n" +
									"#EXT-X-ALLOW-CACHE:NO\n" +
									"#EXT-X-TARGETDURATION:2\n" +
									"#EXT-X-MEDIA-SEQUENCE:2\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n"))
							} else {
								w.Write([]byte("#EXTM3U\n" +
									"#EXT-X-VERSION:3\n" +
									"#EXT-X-ALLOW-CACHE:NO\n" +
									"#EXT-X-TARGETDURATION:2\n" +
									"#EXT-X-MEDIA-SEQUENCE:4\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n" +
									"#EXTINF:2,\n" +
									"segment1.ts\n"))
							}
						case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
							w.Header().Set("Content-Type", `video/MP2T`)

							h264Track := &mpegts.Track{
								Codec: &tscodecs.H264{},
							}
							mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
							err := mw.Initialize()
							require.NoError(t, err)

							err = mw.WriteH264(
								h264Track,
								90000,               // +1 sec
								0x1FFFFFFFF-90000+1, // -1 sec
								[][]byte{
									{7, 1, 2, 3}, // SPS
									{8},          // PPS
									{5},          // IDR
								},
							)
							require.NoError(t, err)
						}

					case "multiple tracks in rendition":
						switch {
						case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\"," +
								"DEFAULT=YES,AUTOSELECT=YES,LANGUAGE=\"en\",URI=\"audio.m3u8\"\n" +
								"#EXT-X-STREAM-INF:BANDWIDTH=7680000,CODECS=\"avc1.640015,mp4a.40.5\",AUDIO=\"aac\"\n" +
								"video.m3u8\n"))

						case r.Method == http.MethodGet && r.URL.Path == "/video.m3u8":
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-VERSION:7\n" +
								"#EXT-X-MEDIA-SEQUENCE:20\n" +
								"#EXT-X-PLAYLIST-TYPE:VOD\n" +
								"#EXT-X-INDEPENDENT-SEGMENTS\n" +
								"#EXT-X-TARGETDURATION:2\n" +
								"#EXT-X-MAP:URI=\"init_video.mp4\"\n" +
								"#EXT-X-PROGRAM-DATE-TIME:2015-02-05T01:02:02Z\n" +
								"#EXTINF:2,\n" +
								"segment_video.mp4\n" +
								"#EXT-X-ENDLIST\n"))

						case r.Method == http.MethodGet && r.URL.Path == "/audio.m3u8":
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-VERSION:7\n" +
								"#EXT-X-MEDIA-SEQUENCE:20\n" +
								"#EXT-X-PLAYLIST-TYPE:VOD\n" +
								"#EXT-X-INDEPENDENT-SEGMENTS\n" +
								"#EXT-X-TARGETDURATION:2\n" +
								"#EXT-X-MAP:URI=\"init_audio.mp4\"\n" +
								"#EXT-X-PROGRAM-DATE-TIME:2014-02-05T01:02:02Z\n" +
								"#EXTINF:2,\n" +
								"segment_audio.mp4\n" +
								"#EXT-X-ENDLIST"))

						case r.Method == http.MethodGet && r.URL.Path == "/init_video.mp4":
							w.Header().Set("Content-Type", `video/mp4`)
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 90000,
										Codec: &mp4codecs.H264{
											SPS: testH264SPS,
											PPS: testH264PPS,
										},
									},
								},
							}, w)
							require.NoError(t, err)

						case r.Method == http.MethodGet && r.URL.Path == "/init_audio.mp4":
							w.Header().Set("Content-Type", `video/mp4`)
							err := mp4ToWriter(&fmp4.Init{
								Tracks: []*fmp4.InitTrack{
									{
										ID:        1,
										TimeScale: 44100,
										Codec: &mp4codecs.MPEG4Audio{
											Config: testAACConfig,
										},
									},
									{
										ID:        2,
										TimeScale: 44100,
										Codec: &mp4codecs.MPEG4Audio{
											Config: testAACConfig,
										},
									},
								},
							}, w)
							require.NoError(t, err)
						}
					}
				}),
			}

			ln, err := net.Listen("tcp", "localhost:5780")
			require.NoError(t, err)

			go httpServ.Serve(ln)
			defer httpServ.Shutdown(context.Background())

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()

			c := &Client{
				URI:        "http://localhost:5780/index.m3u8",
				HTTPClient: &http.Client{Transport: tr},
			}
			require.NoError(t, err)

			err = c.Start()
			require.NoError(t, err)
			defer c.Close()

			err = c.Wait2()

			switch ca {
			case "invalid sequence id":
				require.EqualError(t, err, "next segment not found or not ready yet")
			case "multiple tracks in rendition":
				require.EqualError(t, err, "rendition playlists with multiple tracks are not supported")
			}
		})
	}
}

func TestClientVODWithoutPlaylistType(t *testing.T) {
	videoRecv := make(chan struct{})

	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXTINF:1,\n" +
					"segment1.ts\n" +
					"#EXTINF:1,\n" +
					"segment2.ts\n" +
					"#EXT-X-ENDLIST\n"))

			case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					90000,
					90000,
					[][]byte{
						{7, 1, 2, 3}, // SPS
						{8},          // PPS
						{5},          // IDR
					},
				)
				require.NoError(t, err)

			case r.Method == http.MethodGet && r.URL.Path == "/segment2.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					180000,
					180000,
					[][]byte{{1}},
				)
				require.NoError(t, err)
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)
	defer ln.Close()

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	var c *Client
	c = &Client{
		URI:        "http://localhost:5780/index.m3u8",
		HTTPClient: &http.Client{Transport: tr},
		OnTracks: func(tracks []*Track) error {
			c.OnDataH26x(tracks[0], func(_ int64, _ int64, au [][]byte) {
				require.Equal(t, []byte{7, 1, 2, 3}, au[0])
				close(videoRecv)
			})

			return nil
		},
	}

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-videoRecv
}

func TestClientCookie(t *testing.T) {
	segmentOk := make(chan struct{})

	httpServ := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
				w.Header().Set("Set-Cookie", "testcookie=value; Path=/; Max-Age=3600")
				w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
				w.Write([]byte("#EXTM3U\n" +
					"#EXT-X-VERSION:3\n" +
					"#EXT-X-PLAYLIST-TYPE:VOD\n" +
					"#EXT-X-ALLOW-CACHE:NO\n" +
					"#EXT-X-TARGETDURATION:2\n" +
					"#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXTINF:1,\n" +
					"segment1.ts\n" +
					"#EXTINF:1,\n" +
					"segment2.ts\n" +
					"#EXT-X-ENDLIST\n"))

			case r.Method == http.MethodGet && r.URL.Path == "/segment1.ts":
				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					90000,
					90000,
					[][]byte{
						{7, 1, 2, 3}, // SPS
						{8},          // PPS
						{5},          // IDR
					},
				)
				require.NoError(t, err)

			case r.Method == http.MethodGet && r.URL.Path == "/segment2.ts":
				require.Equal(t, "testcookie=value", r.Header.Get("Cookie"))

				w.Header().Set("Content-Type", `video/MP2T`)

				h264Track := &mpegts.Track{
					Codec: &tscodecs.H264{},
				}
				mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
				err := mw.Initialize()
				require.NoError(t, err)

				err = mw.WriteH264(
					h264Track,
					180000,
					180000,
					[][]byte{{1}},
				)
				require.NoError(t, err)

				close(segmentOk)
			}
		}),
	}

	ln, err := net.Listen("tcp", "localhost:5780")
	require.NoError(t, err)
	defer ln.Close()

	go httpServ.Serve(ln)
	defer httpServ.Shutdown(context.Background())

	c := &Client{
		URI:        "http://localhost:5780/index.m3u8",
		HTTPClient: nil,
	}

	err = c.Start()
	require.NoError(t, err)
	defer c.Close()

	<-segmentOk
}

func TestClientRedirect(t *testing.T) {
	writeRedirectSegment := func(t *testing.T, w http.ResponseWriter) {
		w.Header().Set("Content-Type", `video/MP2T`)
		h264Track := &mpegts.Track{Codec: &tscodecs.H264{}}
		mw := &mpegts.Writer{W: w, Tracks: []*mpegts.Track{h264Track}}
		err := mw.Initialize()
		require.NoError(t, err)
		err = mw.WriteH264(h264Track, 90000, 90000, [][]byte{{7, 1, 2, 3}, {8}, {5}})
		require.NoError(t, err)
	}

	for _, ca := range []string{
		"redirected media playlist",
		"multivariant with redirected media playlist",
	} {
		t.Run(ca, func(t *testing.T) {
			var originalCount atomic.Int32
			var redirectedCount atomic.Int32

			httpServ := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch ca {
					case "redirected media playlist":
						switch {
						case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
							originalCount.Add(1)
							http.Redirect(w, r, "/redirected/index.m3u8", http.StatusFound)

						case r.Method == http.MethodGet && r.URL.Path == "/redirected/index.m3u8":
							redirectedCount.Add(1)
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-VERSION:3\n" +
								"#EXT-X-TARGETDURATION:2\n" +
								"#EXT-X-MEDIA-SEQUENCE:0\n" +
								"#EXT-X-PLAYLIST-TYPE:VOD\n" +
								"#EXTINF:1,\n" +
								"segment.ts\n" +
								"#EXT-X-ENDLIST\n"))

						case r.Method == http.MethodGet && r.URL.Path == "/redirected/segment.ts":
							writeRedirectSegment(t, w)

						default:
							w.WriteHeader(http.StatusNotFound)
						}

					case "multivariant with redirected media playlist":
						switch {
						case r.Method == http.MethodGet && r.URL.Path == "/index.m3u8":
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-STREAM-INF:BANDWIDTH=1000000,CODECS=\"avc1.640015\"\n" +
								"stream.m3u8\n"))

						case r.Method == http.MethodGet && r.URL.Path == "/stream.m3u8":
							originalCount.Add(1)
							http.Redirect(w, r, "/redirected/stream.m3u8", http.StatusFound)

						case r.Method == http.MethodGet && r.URL.Path == "/redirected/stream.m3u8":
							redirectedCount.Add(1)
							w.Header().Set("Content-Type", `application/vnd.apple.mpegurl`)
							w.Write([]byte("#EXTM3U\n" +
								"#EXT-X-VERSION:3\n" +
								"#EXT-X-TARGETDURATION:2\n" +
								"#EXT-X-MEDIA-SEQUENCE:0\n" +
								"#EXT-X-PLAYLIST-TYPE:VOD\n" +
								"#EXTINF:1,\n" +
								"segment.ts\n" +
								"#EXT-X-ENDLIST\n"))

						case r.Method == http.MethodGet && r.URL.Path == "/redirected/segment.ts":
							writeRedirectSegment(t, w)

						default:
							w.WriteHeader(http.StatusNotFound)
						}
					}
				}),
			}

			ln, err := net.Listen("tcp", "localhost:5780")
			require.NoError(t, err)
			defer ln.Close()

			go httpServ.Serve(ln)
			defer httpServ.Shutdown(context.Background())

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()

			videoRecv := make(chan struct{})

			var c *Client
			c = &Client{
				URI:        "http://localhost:5780/index.m3u8",
				HTTPClient: &http.Client{Transport: tr},
				OnTracks: func(tracks []*Track) error {
					c.OnDataH26x(tracks[0], func(_ int64, _ int64, _ [][]byte) {
						select {
						case <-videoRecv:
						default:
							close(videoRecv)
						}
					})
					return nil
				},
			}

			err = c.Start()
			require.NoError(t, err)
			defer c.Close()

			<-videoRecv

			require.Equal(t, ErrClientEOS, c.Wait2())

			require.LessOrEqual(t, originalCount.Load(), int32(1),
				"original URL must not be called more than once")
			require.GreaterOrEqual(t, redirectedCount.Load(), int32(2),
				"redirected URL must be called at least twice")
		})
	}
}
