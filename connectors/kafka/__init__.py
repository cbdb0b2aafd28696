"""Kafka on confluent-kafka: clients (and KafkaRecord), transactions (exactly-once)."""
