"""The pure core: plain functions over plain records, no Kafka, Faust or I/O."""
