"""Sparkplug topic names and broker URLs."""

from __future__ import annotations

import pytest

from microfab.telemetry.mqtt import BrokerSettings
from microfab.telemetry.sparkplug import Topic, check_id


def test_topics_round_trip() -> None:
    for text in (
        "spBv1.0/ohio/NBIRTH/ohio-cnc-mill-1",
        "spBv1.0/ohio/DDATA/ohio-cnc-mill-1/cnc-mill",
        "spBv1.0/ohio/DCMD/ohio-cnc-mill-1/cnc-mill",
        "spBv1.0/STATE/controller",
    ):
        assert str(Topic.parse(text)) == text
    topic = Topic.parse("spBv1.0/ohio/DBIRTH/node/dev")
    assert (topic.group, topic.kind, topic.node, topic.device) == ("ohio", "DBIRTH", "node", "dev")


@pytest.mark.parametrize(
    "text",
    [
        "spBv1.0/ohio/NBIRTH",
        "spBv1.0/ohio/XBIRTH/node",
        "spAv1.0/ohio/NBIRTH/node",
        "spBv1.0/ohio/NBIRTH/node/device",  # node messages carry no device
        "spBv1.0/ohio/DDATA/node",  # device messages need one
        "spBv1.0/ohio//node",
        "microfab/v1/x",
    ],
)
def test_bad_topics(text: str) -> None:
    with pytest.raises(ValueError, match="Sparkplug"):
        Topic.parse(text)


@pytest.mark.parametrize("value", ["", "a/b", "a+", "#"])
def test_ids_refuse_topic_characters(value: str) -> None:
    with pytest.raises(ValueError, match="node"):
        check_id("node", value)


def test_broker_urls() -> None:
    plain = BrokerSettings.parse("mqtt://127.0.0.1:1884")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("127.0.0.1", 1884, False, None)
    secure = BrokerSettings.parse("mqtts://site%40acme:p%3Ass@broker.acme:8884", ca_file="/etc/ca.pem")
    assert (secure.host, secure.port, secure.tls) == ("broker.acme", 8884, True)
    assert (secure.username, secure.password, secure.ca_file) == ("site@acme", "p:ss", "/etc/ca.pem")
    assert BrokerSettings.parse("mqtts://broker").port == 8883
    with pytest.raises(ValueError, match="mqtt://"):
        BrokerSettings.parse("http://broker")
