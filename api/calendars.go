package api

import "github.com/gofiber/fiber/v2"

// calendarRoutes is written by the calendars work (see internal/calendar).
func (s *Server) calendarRoutes(r fiber.Router) {}
