package api

import "github.com/gofiber/fiber/v2"

// triggerRoutes is written by the triggers work.
func (s *Server) triggerRoutes(r fiber.Router) {}
