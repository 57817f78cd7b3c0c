package api

import "github.com/gofiber/fiber/v2"

// webhookRoutes is written by the webhooks work.
func (s *Server) webhookRoutes(r fiber.Router) {}
