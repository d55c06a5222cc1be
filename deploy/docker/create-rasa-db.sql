-- Rasa's conversations (tracker store) live in a database of their own.
CREATE DATABASE rasa OWNER leadqual;
