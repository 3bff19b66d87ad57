// Package qrtest reads QR codes in tests: the PNG data URLs fleetgate hands
// out for pairing authenticator apps, decoded with a QR reader independent
// of the one that drew them.
package qrtest

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Decode returns the text of the QR code in a data:image/png;base64 URL and
// the image's bounds, failing t if it is not one.
func Decode(t testing.TB, dataURL string) (string, image.Rectangle) {
	t.Helper()
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(dataURL, prefix) {
		t.Fatalf("not a PNG data URL: %.40s…", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, prefix))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding QR code: %v", err)
	}
	return res.GetText(), img.Bounds()
}
