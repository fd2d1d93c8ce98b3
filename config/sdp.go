package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"gopkg.in/yaml.v3"
)

// maxSDPSize bounds an SDP file, so that a path such as /dev/zero fails
// at once instead of filling memory. Real ones are a few hundred bytes.
const maxSDPSize = 64 << 10

// sdpExample is shown when an SDP lacks a usable video stream.
const sdpExample = "m=video 5004 RTP/AVP 96 and a=rtpmap:96 H264/90000"

// sdpProblem is a mistake in an SDP. line is the line of the SDP text it
// is on (1-based, counting blank lines), or 0 for the SDP as a whole.
type sdpProblem struct {
	line int
	msg  string
}

// sdp reads the sdp: value n of an rtp camera: inline SDP text, or the
// path of an SDP file. It returns the normalized SDP and its video codec.
func (p *parser) sdp(n *yaml.Node, prefix string) (text, codec string, ok bool) {
	name := prefix + "sdp"
	s, set := p.str(n, name)
	if !set {
		if isNull(n) {
			p.errorf(n.Line, "%s is empty (want SDP text, or the path of an SDP file)", name)
		}
		return "", "", false
	}
	if strings.TrimSpace(s) == "" {
		p.errorf(n.Line, "%s is empty (want SDP text, or the path of an SDP file)", name)
		return "", "", false
	}
	// where turns a line of the SDP into a line of the config file and a
	// note saying which line of the SDP was meant, when that differs.
	var where func(line int) (int, string)
	// file is set when s is a path.
	var file string
	if strings.Contains(s, "\n") || strings.HasPrefix(strings.TrimLeft(s, " \t"), "v=") {
		switch {
		case n.Style&yaml.FoldedStyle != 0:
			p.errorf(n.Line, "%s: a folded block (>) joins the SDP's lines into one; write | instead of >", name)
			return "", "", false
		case !strings.Contains(strings.TrimRight(s, "\n"), "\n"):
			// Also what YAML makes of lines continued without a |.
			p.errorf(n.Line, "%s: the SDP is all on one line; write it as a literal block: sdp: | and then one SDP line per line, indented", name)
			return "", "", false
		}
		where = func(line int) (int, string) {
			switch {
			case line == 0:
				return n.Line, ""
			case n.Style&yaml.LiteralStyle != 0:
				// The text of a literal block starts on the line after
				// its "|", line for line.
				return n.Line + line, ""
			}
			return n.Line, fmt.Sprintf(" line %d", line)
		}
	} else {
		path := s
		if !filepath.IsAbs(path) && p.dir != "" {
			path = filepath.Join(p.dir, path)
		}
		data, err := readSDPFile(path)
		if err != nil {
			p.errorf(n.Line, "%s: cannot read the SDP file %s: %v", name, quote(path), err)
			return "", "", false
		}
		s = string(data)
		if strings.TrimSpace(s) == "" {
			p.errorf(n.Line, "%s: the SDP file %s is empty", name, quote(path))
			return "", "", false
		}
		file = quote(path)
		where = func(line int) (int, string) {
			if line == 0 {
				return n.Line, ""
			}
			return n.Line, fmt.Sprintf(" line %d", line)
		}
	}
	text, codec, prob := checkSDP(s)
	if prob != nil {
		// "sdp line 3: ...", "sdp file "cam.sdp" line 3: ..."
		line, note := where(prob.line)
		if file != "" {
			note = " file " + file + note
		}
		p.errorf(line, "%s%s: %s", name, note, prob.msg)
		return "", "", false
	}
	return text, codec, true
}

// readSDPFile reads at most maxSDPSize bytes of the file at path. Its
// errors do not repeat the path.
func readSDPFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathErr(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSDPSize+1))
	if err != nil {
		return nil, pathErr(err)
	}
	if len(data) > maxSDPSize {
		return nil, fmt.Errorf("larger than %d KiB, too big for an SDP", maxSDPSize>>10)
	}
	return data, nil
}

// pathErr strips the operation and path from an *fs.PathError, which the
// message quotes already.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var sdpSyntaxRE = regexp.MustCompile(`syntax error at pos (\d+)`)

// checkSDP parses text with pion/sdp and looks for an RTP/AVP video
// stream in H.264 or H.265. It returns the SDP with CRLF line endings,
// trailing blanks and blank lines removed and a final CRLF, which is what
// pion and gortsplib parse most reliably.
func checkSDP(text string) (normalized, codec string, prob *sdpProblem) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var lines []string
	var orig []int // orig[i] is the line of text that lines[i] came from
	for i, l := range strings.Split(text, "\n") {
		if l = strings.TrimRight(l, " \t"); l != "" {
			lines = append(lines, l)
			orig = append(orig, i+1)
		}
	}
	if len(lines) == 0 {
		return "", "", &sdpProblem{0, "the SDP is empty"}
	}
	if !strings.HasPrefix(lines[0], "v=") {
		return "", "", &sdpProblem{orig[0], fmt.Sprintf("an SDP starts with v=0, not %s", quote(lines[0]))}
	}
	normalized = strings.Join(lines, "\r\n") + "\r\n"

	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(normalized); err != nil {
		return "", "", sdpSyntax(lines, orig, err)
	}

	// The m= lines, in the order pion lists the media.
	var mLines []int
	for i, l := range lines {
		if strings.HasPrefix(l, "m=") {
			mLines = append(mLines, i)
		}
	}
	var first *sdpProblem // why the first video stream cannot be used
	for i, m := range desc.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		line, shown := 0, "m=video"
		if i < len(mLines) {
			line, shown = orig[mLines[i]], lines[mLines[i]]
		}
		if proto := strings.Join(m.MediaName.Protos, "/"); proto != "RTP/AVP" {
			if first == nil {
				first = &sdpProblem{line, fmt.Sprintf("%s: video over %s is not supported (only RTP/AVP, plain RTP)", quote(shown), proto)}
			}
			continue
		}
		var others []string
		for _, pt := range m.MediaName.Formats {
			name, found := rtpmapName(m, pt)
			switch {
			case strings.EqualFold(name, CodecH264):
				return normalized, CodecH264, nil
			case strings.EqualFold(name, CodecH265):
				return normalized, CodecH265, nil
			case found:
				others = append(others, fmt.Sprintf("payload type %s is %s", pt, name))
			default:
				others = append(others, fmt.Sprintf("payload type %s has no a=rtpmap line", pt))
			}
		}
		if first == nil {
			first = &sdpProblem{line, fmt.Sprintf("%s has no H264 or H265 payload (%s); rtp sources need %s",
				quote(shown), strings.Join(others, ", "), sdpExample)}
		}
	}
	if first != nil {
		return "", "", first
	}
	return "", "", &sdpProblem{0, "the SDP has no video; rtp sources need an m=video line with H264 or H265, such as " + sdpExample}
}

// rtpmapName returns the encoding name the a=rtpmap line of m gives
// payload type pt ("H264" from "a=rtpmap:96 H264/90000").
func rtpmapName(m *sdp.MediaDescription, pt string) (string, bool) {
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		num, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
		if num != pt {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(rest), "/")
		return name, true
	}
	return "", false
}

// sdpSyntax finds the line of lines that pion rejects, by parsing ever
// longer beginnings of it (pion accepts an SDP cut after any line, and
// SDPs are short), and explains the problem.
func sdpSyntax(lines []string, orig []int, err error) *sdpProblem {
	var b strings.Builder
	for i, l := range lines {
		start := b.Len()
		b.WriteString(l)
		b.WriteString("\r\n")
		var desc sdp.SessionDescription
		e := desc.UnmarshalString(b.String())
		if e == nil {
			continue
		}
		reason := strings.TrimPrefix(e.Error(), "sdp: ")
		if m := sdpSyntaxRE.FindStringSubmatch(reason); m != nil {
			pos, _ := strconv.Atoi(m[1])
			switch col := pos - start; {
			case len(l) < 2 || l[1] != '=':
				return &sdpProblem{orig[i], fmt.Sprintf("%s is not an SDP line (each line is TYPE=VALUE, such as m=video 5004 RTP/AVP 96)", quote(l))}
			case col <= 1:
				return &sdpProblem{orig[i], fmt.Sprintf("%s is not allowed here (an SDP has v=, o=, s= and t= lines, in that order, before its m= sections; c= and b= go before t=)", quote(l))}
			default:
				return &sdpProblem{orig[i], fmt.Sprintf("%s is invalid (unexpected character at column %d)", quote(l), col+1)}
			}
		}
		if errors.Is(e, io.EOF) {
			reason = "incomplete"
		}
		return &sdpProblem{orig[i], fmt.Sprintf("%s is invalid (%s)", quote(l), reason)}
	}
	return &sdpProblem{0, fmt.Sprintf("invalid SDP (%s)", strings.TrimPrefix(err.Error(), "sdp: "))}
}
