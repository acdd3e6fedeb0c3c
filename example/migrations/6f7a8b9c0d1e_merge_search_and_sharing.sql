-- Revision ID: 6f7a8b9c0d1e
-- Revises: 4d5e6f7a8b9c, 5e6f7a8b9c0d
-- Create Date: 2026-11-24 09:00:00.000000
-- Message: merge search and sharing

-- migrate:upgrade

-- migrate:downgrade
