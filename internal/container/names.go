package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidateName checks a user-given name with Docker's rule and message.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return errdefs.Errorf(errdefs.InvalidParameter, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

// NewID returns a random 64-hex container ID whose 12-character short form
// is not all digits (so it can never be mistaken for a number).
func NewID() string {
	for {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		if strings.Trim(id[:12], "0123456789") != "" {
			return id
		}
	}
}

var (
	adjectives = strings.Fields(`admiring brave busy calm clever cool dazzling eager elastic epic
		festive focused gallant gifted happy hopeful jolly keen kind lucid modest nifty nostalgic
		optimistic peaceful practical quirky relaxed serene sharp stoic sweet tender trusting upbeat
		vibrant wizardly zealous`)
	scientists = strings.Fields(`agnesi albattani bardeen bell blackwell borg curie darwin dijkstra
		einstein euler fermi franklin galileo goldberg hamilton hopper hypatia johnson kepler lamarr
		lovelace mccarthy meitner newton noether pasteur ritchie shannon swartz tesla thompson
		torvalds turing wozniak`)
)

// RandomName returns an adjective_scientist name, as Docker generates.
func RandomName(retry int) string {
	name := pick(adjectives) + "_" + pick(scientists)
	if retry > 0 {
		name = fmt.Sprintf("%s%d", name, retry)
	}
	return name
}

func pick(words []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
	return words[n.Int64()]
}
