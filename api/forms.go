package api

import "github.com/gofiber/fiber/v2"

// formRoutes is written by the custom fields and display rules work.
func (s *Server) formRoutes(r fiber.Router) {}
