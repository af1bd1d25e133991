package kafkaio

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// security resolves the TLS configuration and SASL mechanism of c.
func (c Config) security() (*tls.Config, sasl.Mechanism, error) {
	tlsConf, err := c.TLS.Config()
	if err != nil {
		return nil, nil, fmt.Errorf("kafka tls: %w", err)
	}
	if c.SASL.Mechanism == "" {
		return tlsConf, nil, nil
	}
	pw, err := c.SASL.Password.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("kafka sasl password: %w", err)
	}
	var mech sasl.Mechanism
	switch c.SASL.Mechanism {
	case "plain":
		mech = plain.Mechanism{Username: c.SASL.Username, Password: pw.Reveal()}
	case "scram-sha-256":
		mech, err = scram.Mechanism(scram.SHA256, c.SASL.Username, pw.Reveal())
	case "scram-sha-512":
		mech, err = scram.Mechanism(scram.SHA512, c.SASL.Username, pw.Reveal())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kafka sasl: %w", err)
	}
	return tlsConf, mech, nil
}

// Dialer returns a kafka-go dialer with the TLS and SASL settings of c.
func (c Config) Dialer() (*kafka.Dialer, error) {
	tlsConf, mech, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		ClientID:      c.ClientID,
		Timeout:       10 * time.Second,
		DualStack:     true,
		TLS:           tlsConf,
		SASLMechanism: mech,
	}, nil
}

// Transport returns a kafka-go transport for writers and admin requests.
func (c Config) Transport() (*kafka.Transport, error) {
	tlsConf, mech, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{ClientID: c.ClientID, TLS: tlsConf, SASL: mech, DialTimeout: 10 * time.Second}, nil
}
